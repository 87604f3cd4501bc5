"""Reading a city's address points file: CSV or GeoJSON, as cities publish them.

The file is read as a stream (the ``csv`` module; GeoJSON one feature at a time, see
``_features``), so a county's million points take the memory of one feature, not of the
file. ``address_file_check`` reads it once and says everything wrong with it, naming the
line or feature; ``address_file_rows`` reads it again and yields the rows to write
(``partners.services.address_points_import``). Nothing here touches the database.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path

from partners.addresses import normalize
from partners.geo import feature_properties

csv.field_size_limit(1 << 20)

# What cities call their columns (ESRI exports, Socrata, OpenAddresses), compared upper case with
# anything but letters and digits left out: "ADDR_NUM", "addr num" and "AddrNum" are one name.
DETECTED = {
    "source_id": ("ADDRESS_ID", "ADDRESSID", "ADDR_ID", "ADDRID", "ADDRESS_PT_ID", "ID", "OBJECTID", "FID", "GLOBALID"),
    "number": (
        "ADDR_NUM",
        "HOUSE_NUMBER",
        "HOUSE_NUM",
        "HOUSENUMBER",
        "ADD_NUMBER",
        "ADDRESS_NUMBER",
        "STREET_NUMBER",
        "ST_NUM",
        "NUMBER",
        "NUM",
        "HOUSE",
    ),
    "street": (
        "STREET",
        "STREET_NAME",
        "ST_NAME",
        "FULL_STREET_NAME",
        "FULLSTREET",
        "STREET_FULL_NAME",
        "STNAME",
        "ROAD",
    ),
    "unit": ("UNIT", "UNIT_NUMBER", "UNIT_NUM", "APT", "APARTMENT", "SUITE"),
    "city": ("CITY", "POSTAL_CITY", "MUNICIPALITY", "PLACE_NAME", "TOWN"),
    "postal_code": ("ZIP", "ZIPCODE", "ZIP_CODE", "ZIP5", "POSTCODE", "POSTAL_CODE"),
    "lat": ("LAT", "LATITUDE", "Y", "POINT_Y"),
    "lng": ("LON", "LNG", "LONG", "LONGITUDE", "X", "POINT_X"),
    "address": ("FULL_ADDRESS", "FULLADDRESS", "FULLADDR", "ADDRESS", "ADDRESS_FULL", "SITE_ADDRESS", "SITEADDR"),
}
LIMITS = {"source_id": 100, "number": 20, "street": 120, "unit": 40, "city": 80, "postal_code": 12, "label": 250}
MAX_ERRORS = 20
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SPACES = re.compile(r"\s+")
_UNIT_WORD = re.compile(r"^(APT|APARTMENT|UNIT|STE|SUITE|BLDG|FL|FLOOR|#|NO\.?)\b", re.IGNORECASE)


class AddressFileError(ValueError):
    """The file cannot be imported as a whole (unreadable, not CSV/GeoJSON, columns not found)."""


def _key(name: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", str(name).upper())


@dataclass(frozen=True)
class Columns:
    """Which column (or GeoJSON property) holds each part; "" where the file has none."""

    source_id: str = ""
    number: str = ""
    street: str = ""
    unit: str = ""
    city: str = ""
    postal_code: str = ""
    lat: str = ""
    lng: str = ""
    address: str = ""

    @classmethod
    def detect(cls, present: list[str], given: dict[str, str], *, needs_coordinates: bool) -> Columns:
        """The columns named on the command line, the rest recognised among those ``present``."""
        by_key = {}
        for name in present:
            by_key.setdefault(_key(name), name)
        chosen = {}
        for part, names in DETECTED.items():
            wanted = (given.get(part) or "").strip()
            if wanted:
                if wanted not in present:
                    raise AddressFileError(f"no column {wanted!r} (columns: {_listed(present)}).")
                chosen[part] = wanted
            else:
                chosen[part] = next((by_key[_key(n)] for n in names if _key(n) in by_key), "")
        columns = cls(**chosen)
        if not columns.source_id:
            raise AddressFileError(f"no id column found; name it with --id-field (columns: {_listed(present)}).")
        if not (columns.street or columns.address):
            raise AddressFileError(
                "no street or address column found; name it with --street-field (and --number-field) "
                f"or --address-field (columns: {_listed(present)})."
            )
        if needs_coordinates and not (columns.lat and columns.lng):
            raise AddressFileError(
                f"no latitude and longitude columns found; name them with --lat-field and --lng-field "
                f"(columns: {_listed(present)})."
            )
        # Parts from separate columns win over a one-column address when the file has both.
        if columns.street and not given.get("address"):
            columns = cls(**{**chosen, "address": ""})
        return columns

    def describe(self) -> str:
        return ", ".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self) if getattr(self, f.name))


def _listed(names) -> str:
    shown = ", ".join(str(name) for name in list(names)[:40])
    return shown or "none"


@dataclass(frozen=True)
class AddressRow:
    """One address point, checked, ready to write."""

    source_id: str
    number: str
    street: str
    unit: str
    city: str
    postal_code: str
    label: str
    search: str
    lat: float
    lng: float


# --- reading ---------------------------------------------------------------------------------


def file_format(path: Path, given: str = "") -> str:
    if given:
        return given
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".geojson", ".json"):
        return "geojson"
    try:
        with path.open(encoding="utf-8-sig") as handle:
            start = handle.read(512).lstrip()
    except (OSError, UnicodeDecodeError):
        return "csv"  # reading it properly will say what is wrong
    return "geojson" if start.startswith("{") else "csv"


Record = tuple[str, dict, "tuple[float, float] | None"]


def _records(path: Path, fmt: str) -> tuple[list[str], Iterator[Record]]:
    """The names of the columns, and (where, values, point from the geometry) for every record."""
    return _csv_records(path) if fmt == "csv" else _geojson_records(path)


def _open(path: Path):
    try:
        return path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise AddressFileError("no such file.") from None
    except IsADirectoryError:
        raise AddressFileError("is a folder, not a file.") from None
    except OSError as error:
        raise AddressFileError(f"cannot be read: {error.strerror or error}.") from None


def _csv_records(path: Path):
    handle = _open(path)
    reader = csv.DictReader(handle)
    try:
        header = reader.fieldnames
    except (csv.Error, UnicodeDecodeError) as error:
        handle.close()
        raise AddressFileError(f"line 1: {_reading_error(error)}") from None
    if not header:
        handle.close()
        raise AddressFileError("the file is empty: a CSV file needs a header line naming its columns.")
    header = [name.strip() for name in header]
    reader.fieldnames = header

    def records():
        with handle:
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except (csv.Error, UnicodeDecodeError) as error:
                    raise AddressFileError(f"line {reader.line_num + 1}: {_reading_error(error)}") from None
                if None in row:
                    raise AddressFileError(
                        f"line {reader.line_num}: more values than the header has columns ({len(header)})."
                    )
                yield f"line {reader.line_num}", row, None

    return header, records()


def _reading_error(error) -> str:
    if isinstance(error, UnicodeDecodeError):
        return "the file is not UTF-8 text; save it as UTF-8 (CSV UTF-8) and try again."
    return f"not valid CSV ({error})."


def _geojson_records(path: Path):
    handle = _open(path)
    features = _features(handle)
    try:
        first = next(features, None)
    except AddressFileError:
        handle.close()
        raise
    if first is None:
        handle.close()
        raise AddressFileError("the FeatureCollection has no features.")
    present = list(first[1].keys())

    def records():
        with handle:
            yield first
            yield from features

    return present, records()


def _features(handle) -> Iterator[Record]:
    """The features of a GeoJSON FeatureCollection, one at a time, read in chunks of the file."""
    stream = _JsonStream(handle)
    kind = None
    found = False
    stream.expect("{", "the file is not a GeoJSON FeatureCollection (no JSON object).")
    while stream.peek() != "}":
        key = stream.value()
        if not isinstance(key, str):
            raise AddressFileError("not valid JSON: expected a property name.")
        stream.expect(":", "not valid JSON: expected ':'.")
        if key == "features":
            found = True
            stream.expect("[", "'features' must be a list.")
            index = 0
            while stream.peek() != "]":
                yield _feature_record(index, stream.value())
                index += 1
                if stream.peek() == ",":
                    stream.advance()
                elif stream.peek() != "]":
                    raise AddressFileError(f"feature {index - 1}: not valid JSON after it (expected ',' or ']').")
            stream.advance()
        else:
            value = stream.value()
            if key == "type":
                kind = value
        if stream.peek() == ",":
            stream.advance()
        elif stream.peek() != "}":
            raise AddressFileError("not valid JSON: expected ',' or '}'.")
    if kind != "FeatureCollection":
        raise AddressFileError(f"the file is not a GeoJSON FeatureCollection (type {kind!r}).")
    if not found:
        raise AddressFileError("the FeatureCollection has no 'features'.")


def _feature_record(index: int, feature) -> Record:
    where = f"feature {index}"
    properties = feature_properties(feature, where, AddressFileError)
    if "id" in feature and "id" not in properties:  # the Feature's own id (RFC 7946 §3.2)
        properties = {**properties, "id": feature["id"]}
    geometry = feature.get("geometry")
    point = None
    if geometry is not None:
        coordinates = geometry.get("coordinates") if isinstance(geometry, dict) else None
        if not isinstance(geometry, dict) or geometry.get("type") != "Point":
            kind = geometry.get("type") if isinstance(geometry, dict) else type(geometry).__name__
            raise AddressFileError(f"{where}: the geometry must be a Point, not {kind!r}.")
        if not isinstance(coordinates, list) or len(coordinates) < 2:
            raise AddressFileError(f"{where}: a Point needs [longitude, latitude].")
        point = (coordinates[1], coordinates[0])
    return where, properties, point


class _JsonStream:
    """Values of a JSON text decoded one at a time from a buffer refilled from the file."""

    CHUNK = 1 << 20
    LARGEST = 64 << 20  # one feature larger than this is not an address point
    _SPACE = re.compile(r"[ \t\n\r]*")

    def __init__(self, handle):
        self.handle = handle
        self.buffer = ""
        self.position = 0
        self.at_end = False
        self.decoder = json.JSONDecoder()

    def _fill(self) -> None:
        try:
            data = self.handle.read(self.CHUNK)
        except UnicodeDecodeError:
            raise AddressFileError(_reading_error(UnicodeDecodeError("utf-8", b"", 0, 1, ""))) from None
        if not data:
            self.at_end = True
        self.buffer = self.buffer[self.position :] + data
        self.position = 0

    def peek(self) -> str:
        while True:
            self.position = self._SPACE.match(self.buffer, self.position).end()
            if self.position < len(self.buffer) or self.at_end:
                return self.buffer[self.position : self.position + 1]
            self._fill()

    def advance(self) -> None:
        self.position += 1

    def expect(self, char: str, message: str) -> None:
        if self.peek() != char:
            raise AddressFileError(message)
        self.advance()

    def value(self):
        self.peek()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buffer, self.position)
            except json.JSONDecodeError as error:
                if self.at_end:
                    raise AddressFileError(f"not valid JSON ({error.msg}).") from None
                if len(self.buffer) - self.position > self.LARGEST:
                    raise AddressFileError("not valid JSON (a value larger than 64 MB).") from None
                self._fill()
                continue
            # A number at the very end of the buffer may go on in the next chunk.
            if end == len(self.buffer) and not self.at_end:
                self._fill()
                continue
            self.position = end
            return value


# --- checking --------------------------------------------------------------------------------


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _SPACES.sub(" ", str(value)).strip()


def _coordinate(name: str, value, bound: float) -> tuple[float | None, str]:
    text = _text(value)
    if not text:
        return None, f"no {name}"
    try:
        number = float(text)
    except ValueError:
        return None, f"{name} {text[:40]!r} is not a number"
    if not math.isfinite(number):
        return None, f"{name} {text[:40]!r} is not a number"
    if not -bound <= number <= bound:
        if abs(number) > 1000:
            return None, (
                f"{name} {text[:40]} is not in degrees: export the points in WGS 84 (EPSG:4326), "
                "not in a projected system such as State Plane"
            )
        return None, f"{name} {text[:40]} is outside -{bound:g}…{bound:g}"
    return number, ""


def _row(where: str, values: dict, point, columns: Columns) -> tuple[AddressRow | None, list[str]]:
    errors = []

    def part(name: str) -> str:
        column = getattr(columns, name)
        text = _text(values.get(column)) if column else ""
        if _CONTROL.search(text):
            errors.append(f"{name} contains control characters")
            return ""
        if name in LIMITS and len(text) > LIMITS[name]:
            errors.append(f"{name} is longer than {LIMITS[name]} characters")
        return text

    source_id, number, street, unit = part("source_id"), part("number"), part("street"), part("unit")
    city, postal_code, address = part("city"), part("postal_code"), part("address")
    if not source_id:
        errors.append(f"no id (column {columns.source_id!r})")
    if columns.address:
        place = address
        if unit and unit.upper() not in place.upper():
            place = f"{place} {unit if _UNIT_WORD.match(unit) else '#' + unit}"
        if not place:
            errors.append(f"no address (column {columns.address!r})")
    else:
        if not street:
            errors.append(f"no street (column {columns.street!r})")
        place = " ".join(p for p in (number, street) if p)
        if unit:
            place = f"{place} {unit if _UNIT_WORD.match(unit) else '#' + unit}"
    # A GeoJSON Point wins over coordinate properties (an ESRI export's X and Y are often projected).
    if point is not None:
        raw_lat, raw_lng = point
    else:
        raw_lat = values.get(columns.lat) if columns.lat else None
        raw_lng = values.get(columns.lng) if columns.lng else None
    lat, lat_error = _coordinate("latitude", raw_lat, 90)
    lng, lng_error = _coordinate("longitude", raw_lng, 180)
    errors += [e for e in (lat_error, lng_error) if e]
    search = normalize(place)
    if place and not search:
        errors.append(f"the address {place[:60]!r} has no letters or digits")
    label = place + (", " + " ".join(p for p in (city, postal_code) if p) if city or postal_code else "")
    if len(label) > LIMITS["label"]:
        errors.append(f"the address is longer than {LIMITS['label']} characters")
    if errors:
        return None, [f"{where}: {'; '.join(errors)}."]
    return (
        AddressRow(
            source_id=source_id,
            number=number,
            street=street,
            unit=unit,
            city=city,
            postal_code=postal_code,
            label=label,
            search=search[: LIMITS["label"]],
            lat=lat,
            lng=lng,
        ),
        [],
    )


@dataclass
class FileCheck:
    format: str
    columns: Columns
    rows: int
    errors: list[str]
    error_count: int


def _opened(path: Path, fmt: str, given: dict[str, str]) -> tuple[Columns, Iterator[Record]]:
    present, records = _records(path, fmt)
    columns = Columns.detect(present, given, needs_coordinates=fmt == "csv")
    return columns, records


def address_file_check(
    path: Path, *, fmt: str = "", given: dict[str, str] | None = None, progress: Callable[[int], None] | None = None
) -> FileCheck:
    """Read the whole file and say what is wrong with it (at most ``MAX_ERRORS`` messages, all counted)."""
    fmt = file_format(path, fmt)
    columns, records = _opened(path, fmt, given or {})
    seen: dict[str, str] = {}
    errors: list[str] = []
    count = error_count = 0
    for where, values, point in records:
        count += 1
        row, problems = _row(where, values, point, columns)
        source_id = _text(values.get(columns.source_id))
        if source_id in seen:
            problems.append(f"{where}: id {source_id[:100]!r} appears twice (also {seen[source_id]}).")
        elif source_id:
            seen[source_id] = where
        error_count += len(problems)
        if len(errors) < MAX_ERRORS:
            errors += problems[: MAX_ERRORS - len(errors)]
        if progress:
            progress(count)
    return FileCheck(format=fmt, columns=columns, rows=count, errors=errors, error_count=error_count)


def address_file_rows(path: Path, *, fmt: str, given: dict[str, str] | None = None) -> Iterator[AddressRow]:
    """The file's rows, read again once ``address_file_check`` found nothing wrong."""
    columns, records = _opened(path, fmt, given or {})
    for where, values, point in records:
        row, problems = _row(where, values, point, columns)
        if row is None:  # the file changed since it was checked
            raise AddressFileError(f"{problems[0]} (the file changed while it was imported)")
        yield row
