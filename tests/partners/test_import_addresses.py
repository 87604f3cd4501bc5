"""``manage.py import_addresses``: CSV and GeoJSON as cities publish them, all or nothing, idempotent."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from partners.models import AddressPoint
from tests.factories import NeighborhoodFactory, square

pytestmark = pytest.mark.django_db

CSV = (
    "OBJECTID,ADDR_NUM,STREET_NAME,UNIT,CITY,ZIP,LATITUDE,LONGITUDE\n"
    "101,1200,Main Street,,Kansas City,64105,39.005,-94.995\n"
    "102,1201,Main St,4,Kansas City,64105,39.006,-94.994\n"
    "103,400,E 12th Street,,Kansas City,64106,39.5,-94.5\n"
)


def run(path, *args):
    out = StringIO()
    call_command("import_addresses", str(path), *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def rows():
    return sorted(AddressPoint.objects.values_list("source_id", "label", "search", "lat", "lng", "neighborhood__slug"))


@pytest.fixture
def hood():
    return NeighborhoodFactory(name="Downtown", slug="downtown", boundary=square(39.0, -95.0, 0.01))


def test_csv_columns_are_recognised_and_points_get_their_neighborhood(tmp_path, hood):
    path = tmp_path / "points.csv"
    path.write_text(CSV, encoding="utf-8")
    output = run(path)
    assert "3 rows read" in output and "3 written (3 new, 0 already there)" in output
    assert "1 outside every neighborhood" in output
    assert rows() == [
        ("101", "1200 Main Street, Kansas City 64105", "1200 MAIN ST", 39.005, -94.995, "downtown"),
        ("102", "1201 Main St #4, Kansas City 64105", "1201 MAIN ST # 4", 39.006, -94.994, "downtown"),
        ("103", "400 E 12th Street, Kansas City 64106", "400 E 12TH ST", 39.5, -94.5, None),
    ]


def test_a_second_run_writes_the_same_rows_and_a_changed_row_is_updated(tmp_path, hood):
    path = tmp_path / "points.csv"
    path.write_text(CSV, encoding="utf-8")
    run(path)
    first, ids = rows(), sorted(AddressPoint.objects.values_list("pk", flat=True))
    assert "0 new, 3 already there" in run(path)
    assert rows() == first
    path.write_text(CSV.replace("400,E 12th Street,,Kansas City,64106,39.5,-94.5", "402,E 12th St,,,,39.004,-94.996"))
    run(path)
    assert AddressPoint.objects.get(source_id="103").label == "402 E 12th St"
    moved = AddressPoint.objects.get(source_id="103")
    assert (moved.lat, moved.neighborhood) == (39.004, hood)
    assert sorted(AddressPoint.objects.values_list("pk", flat=True)) == ids  # updated in place


def test_a_bad_row_imports_nothing_and_names_the_line(tmp_path, hood):
    path = tmp_path / "points.csv"
    path.write_text(CSV, encoding="utf-8")
    run(path)
    before = rows()
    bad = CSV.replace("1200,Main Street", "1200,New Name") + (
        "104,5,Oak St,,,,abc,-94.5\n101,6,Oak St,,,,39.0,-94.5\n105,7,Oak St,,,,2760000,1200000\n"
    )
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(CommandError) as raised:
        run(path)
    message = str(raised.value)
    assert "3 problems; nothing was imported." in message
    assert "line 5: latitude 'abc' is not a number." in message
    assert "line 6: id '101' appears twice (also line 2)." in message
    assert "line 7: latitude 2760000 is not in degrees: export the points in WGS 84 (EPSG:4326)" in message
    assert rows() == before


def test_geojson_points_with_their_properties(tmp_path, hood):
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": 7,
                "properties": {"HOUSE_NUMBER": 5, "STREET": "Grand Boulevard", "X": 2760000.5, "Y": 1070000.5},
                "geometry": {"type": "Point", "coordinates": [-94.999, 39.001]},
            },
            {
                "type": "Feature",
                "id": 8,
                "properties": {"HOUSE_NUMBER": 7.0, "STREET": "Grand Blvd"},
                "geometry": {"type": "Point", "coordinates": [-94.998, 39.002]},
            },
        ],
    }
    path = tmp_path / "points.geojson"
    # Written with small chunks in mind: the reader streams the features (see the next test).
    path.write_text(json.dumps(collection, indent=1), encoding="utf-8")
    output = run(path)
    assert "geojson, 2 rows read" in output and "2 new" in output
    assert rows() == [
        ("7", "5 Grand Boulevard", "5 GRAND BLVD", 39.001, -94.999, "downtown"),
        ("8", "7 Grand Blvd", "7 GRAND BLVD", 39.002, -94.998, "downtown"),
    ]


def test_geojson_is_read_a_chunk_at_a_time(tmp_path, hood, monkeypatch):
    from partners import address_import

    monkeypatch.setattr(address_import._JsonStream, "CHUNK", 7)  # every feature spans many chunks
    features = [
        {"type": "Feature", "properties": {"id": f"P{n}", "address": f"{n} Oak St"}, "geometry": None}
        for n in range(1, 4)
    ]
    for n, feature in enumerate(features):
        feature["geometry"] = {"type": "Point", "coordinates": [-94.9955 + n * 0.0001, 39.0055]}
    path = tmp_path / "points.geojson"
    path.write_text(json.dumps({"features": features, "type": "FeatureCollection"}), encoding="utf-8")
    run(path)
    assert [(s, label) for s, label, *_ in rows()] == [("P1", "1 Oak St"), ("P2", "2 Oak St"), ("P3", "3 Oak St")]


def test_one_address_column_named_on_the_command_line(tmp_path, hood):
    path = tmp_path / "points.txt"
    path.write_text("PID,FULL,LAT,LON\nA-1,1200 Main Street,39.005,-94.995\n", encoding="utf-8")
    output = run(path, "--format", "csv", "--id-field", "PID", "--address-field", "FULL")
    assert "source_id=PID" in output and "address=FULL" in output
    assert rows() == [("A-1", "1200 Main Street", "1200 MAIN ST", 39.005, -94.995, "downtown")]


def test_a_byte_order_mark_is_not_part_of_the_first_column(tmp_path, hood):
    path = tmp_path / "points.csv"
    path.write_bytes(b"\xef\xbb\xbf" + CSV.encode())
    assert "source_id=OBJECTID" in run(path)
    assert AddressPoint.objects.count() == 3


def test_progress_is_printed_every_n_rows_and_at_the_end(tmp_path, hood):
    lines = ["ADDRESS_ID,NUMBER,STREET,LAT,LNG"] + [f"{n},{n},Oak St,39.005,-94.995" for n in range(1, 6)]
    path = tmp_path / "points.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    output = run(path, "--progress-every", "2")
    assert "checked 2 rows" in output and "checked 4 rows" in output
    assert "written 5 of 5" in output and "Imported" in output


def test_dry_run_writes_nothing(tmp_path, hood):
    path = tmp_path / "points.csv"
    path.write_text(CSV, encoding="utf-8")
    assert "3 address points would be imported" in run(path, "--dry-run")
    assert not AddressPoint.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file."),
        (b"", "the file is empty"),
        (b"\xff\xfeO\x00B\x00", "not UTF-8"),
        (b"name,colour\nx,red\n", "no id column found; name it with --id-field (columns: name, colour)."),
        (b"id,street\n1,Oak St\n", "no latitude and longitude columns found"),
        (b"id,street,lat,lng\n1,Oak,39,-94,extra\n", "line 2: more values than the header has columns (4)."),
        (b'{"type": "FeatureCollection", "features": [{"type": "Feature", "prop', "not valid JSON"),
        (b'{"type": "Feature"}', "the file is not a GeoJSON FeatureCollection (type 'Feature')."),
        (b'{"type": "FeatureCollection"}', "the FeatureCollection has no 'features'."),
        (
            b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"id": 1, "street": "Oak"}, '
            b'"geometry": {"type": "Polygon", "coordinates": []}}]}',
            "feature 0: the geometry must be a Point, not 'Polygon'.",
        ),
    ],
)
def test_a_bad_file_is_a_clear_message_and_changes_nothing(tmp_path, content, message):
    suffix = ".geojson" if content and content.startswith(b"{") else ".csv"
    path = tmp_path / f"points{suffix}"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CommandError) as raised:
        run(path)
    assert message in str(raised.value)
    assert not AddressPoint.objects.exists()
