from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from partners.address_import import AddressFileError, address_file_check, address_file_rows
from partners.services import address_points_import


class Command(BaseCommand):
    help = (
        "Load the city's address points from a CSV or GeoJSON file (all or nothing; idempotent by the "
        "city's id). The resident form suggests them as an address is typed."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path to a .csv file with a header line, or a .geojson FeatureCollection")
        parser.add_argument("--format", choices=["csv", "geojson"], default="", help="Default: from the file's name")
        fields = parser.add_argument_group("columns (default: recognised by their usual names)")
        fields.add_argument("--id-field", default="", help="The point's id (ADDRESS_ID, OBJECTID, id, …)")
        fields.add_argument("--number-field", default="", help="House number (ADDR_NUM, HOUSE_NUMBER, number, …)")
        fields.add_argument("--street-field", default="", help="Street with its type (STREET, STREET_NAME, …)")
        fields.add_argument("--unit-field", default="", help="Unit or apartment (UNIT, APT, …)")
        fields.add_argument("--city-field", default="", help="City (CITY, MUNICIPALITY, …)")
        fields.add_argument("--zip-field", default="", help="ZIP code (ZIP, ZIPCODE, POSTCODE, …)")
        fields.add_argument("--lat-field", default="", help="Latitude in degrees (LAT, LATITUDE, Y, …)")
        fields.add_argument("--lng-field", default="", help="Longitude in degrees (LON, LNG, LONGITUDE, X, …)")
        fields.add_argument(
            "--address-field", default="", help="One column with the whole street address, instead of number and street"
        )
        parser.add_argument("--dry-run", action="store_true", help="Check the file and write nothing")
        parser.add_argument(
            "--progress-every", type=int, default=10_000, help="Print progress every N rows (default 10000)"
        )

    def handle(self, *args, **opts):
        path = Path(opts["file"])
        every = max(1, opts["progress_every"])
        given = {
            "source_id": opts["id_field"],
            "number": opts["number_field"],
            "street": opts["street_field"],
            "unit": opts["unit_field"],
            "city": opts["city_field"],
            "postal_code": opts["zip_field"],
            "lat": opts["lat_field"],
            "lng": opts["lng_field"],
            "address": opts["address_field"],
        }

        def read(count):
            if count % every == 0:
                self.stdout.write(f"  checked {count:,} rows")

        try:
            check = address_file_check(path, fmt=opts["format"], given=given, progress=read)
        except AddressFileError as error:
            raise CommandError(f"{path}: {error} Nothing was imported.") from None
        self.stdout.write(f"{path}: {check.format}, {check.rows:,} rows read; columns {check.columns.describe()}.")
        if check.error_count:
            more = check.error_count - len(check.errors)
            lines = [f"{path}: {check.error_count:,} problems; nothing was imported.", *check.errors]
            if more:
                lines.append(f"… and {more:,} more.")
            raise CommandError("\n  ".join(lines))
        if not check.rows:
            raise CommandError(f"{path}: the file has no address points. Nothing was imported.")
        if opts["dry_run"]:
            self.stdout.write(self.style.SUCCESS(f"Dry run: {check.rows:,} address points would be imported."))
            return
        next_report = every

        def written(count):
            nonlocal next_report
            if count >= next_report or count == check.rows:
                self.stdout.write(f"  written {count:,} of {check.rows:,}")
                next_report = (count // every + 1) * every

        try:
            result = address_points_import(
                rows=address_file_rows(path, fmt=check.format, given=given), progress=written
            )
        except AddressFileError as error:
            raise CommandError(f"{path}: {error} Nothing was imported.") from None
        outside = f"; {result['outside']:,} outside every neighborhood" if result["outside"] else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {path}: {check.rows:,} rows read, {result['written']:,} written "
                f"({result['created']:,} new, {result['updated']:,} already there){outside}."
            )
        )
