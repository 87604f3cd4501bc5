"""``manage.py import_neighborhoods FILE.geojson``: idempotent, all or nothing, clear errors."""

import json
import random
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from partners import geo
from partners.models import Neighborhood
from partners.selectors import neighborhood_for_point
from tests.factories import NeighborhoodFactory, square

pytestmark = pytest.mark.django_db

DEMO_FILE = Path(settings.BASE_DIR) / "demo" / "data" / "neighborhoods.geojson"


def feature(name, geometry, **props):
    return {"type": "Feature", "properties": {"name": name, **props}, "geometry": geometry}


def collection(*features):
    return {"type": "FeatureCollection", "features": list(features)}


def write(tmp_path, content, name="hoods.geojson"):
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def run(path, *args):
    out = StringIO()
    call_command("import_neighborhoods", str(path), *args, stdout=out, stderr=StringIO(), verbosity=0)
    return out.getvalue()


GOOD = collection(
    feature("Westside", square(39.08, -94.60, 0.01), beat="M-311", district="Metro", languages=["en", "es"]),
    feature("Crossroads", square(39.08, -94.59, 0.01), beat="C-113", district="Central", languages="en, es"),
    feature(
        "Columbus Park",
        {"type": "MultiPolygon", "coordinates": [square(39.09, -94.60, 0.005)["coordinates"]]},
        district="Central",
    ),
)


def test_good_file_creates_neighborhoods_that_points_resolve_to(tmp_path):
    output = run(write(tmp_path, GOOD))
    assert "3 created, 0 updated" in output
    westside = Neighborhood.objects.get(slug="westside")
    assert (westside.beat, westside.district, westside.languages) == ("M-311", "Metro", ["en", "es"])
    assert (westside.min_lat, westside.max_lat) == pytest.approx((39.08, 39.09))
    assert (westside.center_lat, westside.center_lng) == pytest.approx((39.085, -94.595))
    assert Neighborhood.objects.get(slug="crossroads").languages == ["en", "es"]  # comma-separated text
    assert neighborhood_for_point(39.085, -94.595) == westside
    assert neighborhood_for_point(39.085, -94.585).slug == "crossroads"
    assert neighborhood_for_point(39.092, -94.598).slug == "columbus-park"
    assert neighborhood_for_point(39.5, -94.5) is None


def test_reimport_is_idempotent_and_updates_in_place(tmp_path):
    path = write(tmp_path, GOOD)
    run(path)
    before = {n.slug: (n.pk, n.boundary, n.beat) for n in Neighborhood.objects.all()}
    assert "0 created, 3 updated" in run(path)
    assert {n.slug: (n.pk, n.boundary, n.beat) for n in Neighborhood.objects.all()} == before
    moved = json.loads(json.dumps(GOOD))
    moved["features"][0]["geometry"] = square(39.20, -94.60, 0.02)
    moved["features"][0]["properties"]["beat"] = "M-399"
    run(write(tmp_path, moved, "moved.geojson"))
    westside = Neighborhood.objects.get(slug="westside")
    assert westside.pk == before["westside"][0]
    assert westside.beat == "M-399"
    assert westside.max_lat == pytest.approx(39.22)
    assert neighborhood_for_point(39.21, -94.59) == westside
    assert Neighborhood.objects.count() == 3


def test_name_property_option(tmp_path):
    data = collection(
        {"type": "Feature", "properties": {"NBHD_NAME": "Ivanhoe", "DIST": "East"}, "geometry": square(39, -94.5)}
    )
    path = write(tmp_path, data)
    with pytest.raises(CommandError, match=r"no 'name' property \(properties present: DIST, NBHD_NAME\)"):
        run(path)
    assert not Neighborhood.objects.exists()
    run(path, "--name-property", "NBHD_NAME", "--district-property", "DIST")
    hood = Neighborhood.objects.get()
    assert (hood.name, hood.slug, hood.district) == ("Ivanhoe", "ivanhoe", "East")


BAD_FILES = [
    ("{not json", r"not valid JSON \(line 1, column 2"),
    (json.dumps([1, 2]), "not a GeoJSON FeatureCollection"),
    (json.dumps({"type": "Feature", "geometry": square(0, 0)}), "not a GeoJSON FeatureCollection"),
    (json.dumps(collection()), "has no features"),
    (json.dumps(collection(feature("Point", {"type": "Point", "coordinates": [0, 0]}))), "Polygon or MultiPolygon"),
    (
        json.dumps(collection(feature("Open", {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 2]]]}))),
        "must end where it starts",
    ),
    (
        json.dumps(
            collection(feature("Far", {"type": "Polygon", "coordinates": [[[0, 0], [500, 0], [1, 1], [0, 0]]]}))
        ),
        "outside longitude/latitude range",
    ),
    (json.dumps(collection(feature("", square(0, 0)))), "feature 0: no 'name' property"),
    (
        json.dumps(collection(feature("Twice", square(0, 0)), feature("Twice", square(1, 1)))),
        "feature 1: 'Twice' appears twice",
    ),
    (
        json.dumps(collection({"type": "Feature", "properties": ["Westside"], "geometry": square(0, 0)})),
        "properties must be",
    ),
    (json.dumps(collection(feature("Bad languages", square(0, 0), languages=5))), "'languages' must be a list"),
]


@pytest.mark.parametrize("content,message", BAD_FILES)
def test_bad_file_is_refused_with_a_clear_message_and_changes_nothing(tmp_path, content, message):
    existing = NeighborhoodFactory(name="Twice", slug="twice", beat="B-1", boundary=square(5, 5))
    path = write(tmp_path, content)
    with pytest.raises(CommandError, match=message) as caught:
        run(path)
    assert str(path) in str(caught.value)
    if not content.startswith("{not"):
        assert str(caught.value).endswith("Nothing was imported.")
    assert list(Neighborhood.objects.values_list("pk", "beat", "boundary")) == [
        (existing.pk, "B-1", square(5, 5)),
    ]


def test_missing_file(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run(tmp_path / "nope.geojson")


def test_a_bad_feature_after_good_ones_imports_none_of_them(tmp_path):
    data = collection(*GOOD["features"], feature("Broken", {"type": "Polygon", "coordinates": []}))
    with pytest.raises(CommandError, match=r"feature 3 \(Broken\)"):
        run(write(tmp_path, data))
    assert not Neighborhood.objects.exists()


def test_name_taken_by_another_slug_is_refused(tmp_path):
    NeighborhoodFactory(name="Westside", slug="west-side-legacy")
    with pytest.raises(CommandError, match="'Westside' already exists with slug 'west-side-legacy'"):
        run(write(tmp_path, GOOD))
    assert Neighborhood.objects.count() == 1


def test_demo_file_has_a_dozen_adjacent_non_overlapping_neighborhoods():
    run(DEMO_FILE)
    hoods = list(Neighborhood.objects.all())
    assert len(hoods) >= 12
    assert len({h.district for h in hoods}) >= 3 and all(h.beat and h.district and h.languages for h in hoods)
    # Every neighborhood's own centre resolves to it…
    for hood in hoods:
        assert neighborhood_for_point(hood.center_lat, hood.center_lng) == hood
    # …no point lies in two of them, and the inner city is covered with no gaps.
    rng = random.Random(7)
    min_lat, max_lat = min(h.min_lat for h in hoods), max(h.max_lat for h in hoods)
    min_lng, max_lng = min(h.min_lng for h in hoods), max(h.max_lng for h in hoods)
    inner_lat = (min_lat + 0.005, max_lat - 0.005)
    inner_lng = (min_lng + 0.005, max_lng - 0.005)
    for _ in range(3000):
        lat, lng = rng.uniform(*inner_lat), rng.uniform(*inner_lng)
        assert sum(geo.contains(h.boundary, lat, lng) for h in hoods) == 1, (lat, lng)
