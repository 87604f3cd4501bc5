import pytest

from partners import geo
from partners.selectors import neighborhood_for_point
from tests.factories import NeighborhoodFactory, square

DONUT = {
    "type": "Polygon",
    "coordinates": [
        [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]],
        [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]],
    ],
}


def test_point_in_polygon_respects_holes():
    assert geo.contains(DONUT, lat=2, lng=2)
    assert not geo.contains(DONUT, lat=5, lng=5)  # in the hole
    assert not geo.contains(DONUT, lat=11, lng=5)


def test_multipolygon_any_part():
    multi = {"type": "MultiPolygon", "coordinates": [square(0, 0, 1)["coordinates"], square(5, 5, 1)["coordinates"]]}
    assert geo.contains(multi, lat=5.5, lng=5.5)
    assert not geo.contains(multi, lat=3, lng=3)


@pytest.mark.parametrize(
    "bad",
    [
        None,
        {"type": "Point", "coordinates": [0, 0]},
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]},
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 2]]]},
        {"type": "Polygon", "coordinates": [[[0, 0], [500, 0], [1, 1], [0, 0]]]},
        {"type": "Polygon", "coordinates": [[["a", 0], [1, 0], [1, 1], ["a", 0]]]},
    ],
)
def test_invalid_geometries_are_rejected(bad):
    with pytest.raises(geo.GeometryError):
        geo.polygons_of(bad)


@pytest.mark.django_db
def test_point_resolves_to_its_neighborhood():
    west = NeighborhoodFactory(boundary=square(39.0, -94.60, 0.01), name="West")
    east = NeighborhoodFactory(boundary=square(39.0, -94.59, 0.01), name="East")
    assert neighborhood_for_point(39.005, -94.595) == west
    assert neighborhood_for_point(39.005, -94.585) == east
    assert neighborhood_for_point(39.5, -94.5) is None


@pytest.mark.django_db
def test_bounding_box_overlap_is_decided_by_polygon():
    # An L-shaped neighborhood whose bounding box covers a point that belongs to another.
    ell = {
        "type": "Polygon",
        "coordinates": [[[0, 0], [2, 0], [2, 1], [1, 1], [1, 2], [0, 2], [0, 0]]],
    }
    l_shape = NeighborhoodFactory(boundary=ell, name="L")
    corner = NeighborhoodFactory(boundary=square(1, 1, 1), name="Corner")
    assert neighborhood_for_point(1.5, 1.5) == corner
    assert neighborhood_for_point(0.5, 0.5) == l_shape
