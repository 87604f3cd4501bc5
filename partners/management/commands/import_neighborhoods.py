import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from partners.services import NeighborhoodImportError, neighborhoods_import


class Command(BaseCommand):
    help = "Load neighborhood boundaries from a GeoJSON FeatureCollection (idempotent; all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path to a .geojson FeatureCollection")
        parser.add_argument("--name-property", default="name", help="Feature property holding the name (default: name)")
        parser.add_argument("--beat-property", default="beat")
        parser.add_argument("--district-property", default="district")
        parser.add_argument("--languages-property", default="languages")

    def handle(self, *args, **opts):
        path = Path(opts["file"])
        try:
            raw = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CommandError(f"{path}: no such file.") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{path}: cannot read: {exc}") from None
        try:
            collection = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise CommandError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}).") from None
        total = len(collection.get("features") or []) if isinstance(collection, dict) else 0
        with tqdm(total=total, desc="neighborhoods", unit="feature", disable=opts["verbosity"] == 0) as bar:
            try:
                result = neighborhoods_import(
                    collection=collection,
                    name_property=opts["name_property"],
                    beat_property=opts["beat_property"],
                    district_property=opts["district_property"],
                    languages_property=opts["languages_property"],
                    progress=bar.update,
                )
            except NeighborhoodImportError as exc:
                raise CommandError(f"{path}: {exc} Nothing was imported.") from None
        self.stdout.write(
            self.style.SUCCESS(f"Imported {path}: {result['created']} created, {result['updated']} updated.")
        )
