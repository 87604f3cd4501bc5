"""The "my area / whole city" switch of the staff lists and the dashboard.

A staff member with an area (districts or neighborhoods in their profile) sees their area first:
``?area=city`` shows the whole city, ``?area=mine`` (or nothing) their area again. A place chosen
in a page's own filters (a district, a neighborhood) wins over either: the switch then marks
neither, and each of its links leaves that place filter out.
"""

from __future__ import annotations

from dataclasses import dataclass

AREA_PARAM = "area"
MINE = "mine"
CITY = "city"
# Cursor and page parameters: a switch starts the list again from its first page.
_RESTART = ("page", "after", "before")


@dataclass(frozen=True)
class AreaSwitch:
    label: str  # the area, named: "Central, East"
    current: str  # MINE, CITY, or "" when a place chosen in the filters decides
    mine_query: str
    city_query: str
    asked: str = ""  # the ``area`` parameter of the request, when valid: the filter forms carry it on

    @property
    def mine(self) -> bool:
        return self.current == MINE

    @property
    def city(self) -> bool:
        return self.current == CITY


def area_switch(query, *, label: str, place_params: tuple[str, ...] = ()) -> AreaSwitch | None:
    """The switch for a request's GET ``query`` (a QueryDict), or None when there is no area to
    switch to (``label`` empty: an administrator without one, say)."""
    if not label:
        return None
    placed = any(query.get(name) for name in place_params)
    current = "" if placed else (CITY if query.get(AREA_PARAM) == CITY else MINE)

    def switched(value: str) -> str:
        params = query.copy()
        for name in (*place_params, *_RESTART):
            params.pop(name, None)
        params[AREA_PARAM] = value
        return params.urlencode()

    asked = query.get(AREA_PARAM) if query.get(AREA_PARAM) in (MINE, CITY) else ""
    return AreaSwitch(label=label, current=current, mine_query=switched(MINE), city_query=switched(CITY), asked=asked)


def shows_area(switch: AreaSwitch | None) -> bool:
    """Whether a list narrows to the user's area: it has one, and neither the whole city nor a
    place of the filters was asked for."""
    return switch is not None and switch.mine
