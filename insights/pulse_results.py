"""The trust pulse's results as the dashboard and /transparency/ show them: the score of a place
for a quarter with its answers and margin, the trend over the last quarters as a chart drawn here
(SVG, no script: /transparency/ loads none), and the places below it in a table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from insights.figures.pulse import (
    AREA,
    CITY,
    MIN_ANSWERS,
    TREND_QUARTERS,
    PulseFigure,
    pulse_results,
    quarter_before,
    quarters_to,
    scope_key,
    statement_scores,
    top_problems,
)


def quarter_label(quarter: date) -> str:
    return _("Q%(number)s %(year)s") % {"number": (quarter.month - 1) // 3 + 1, "year": quarter.year}


def figure_text(figure: PulseFigure) -> str:
    """ "72 ± 6" — or why there is no figure."""
    if not figure.n:
        return _("no answers")
    if figure.score is None:
        return _("fewer than %(n)s answers") % {"n": MIN_ANSWERS}
    if figure.margin is None:
        return f"{figure.score:.0f}"
    return f"{figure.score:.0f} ± {figure.margin:.0f}"


def answers_text(figure: PulseFigure) -> str:
    if figure.score is not None:
        return str(figure.n)
    return "—" if not figure.n else _("under %(n)s") % {"n": MIN_ANSWERS}


@dataclass
class PlaceRow:
    name: str
    figure: PulseFigure
    before: PulseFigure | None = None

    @property
    def text(self) -> str:
        return figure_text(self.figure)

    @property
    def answers(self) -> str:
        return answers_text(self.figure)

    @property
    def before_text(self) -> str:
        return figure_text(self.before) if self.before is not None else ""


# --- the chart ---------------------------------------------------------------------------------

_W, _H, _TOP, _BOTTOM, _LEFT = 640, 220, 24, 40, 36


def trend_svg(points: list[tuple[str, PulseFigure]], title: str, title_id: str) -> str:
    """Bars of the score (0–100) per quarter with the margin as a whisker; a quarter without a
    figure shows a dash. The table beside it carries the same numbers for screen readers."""
    plot = _H - _TOP - _BOTTOM
    step = (_W - _LEFT) / max(len(points), 1)
    width = step * 0.6

    def y(score):
        return _TOP + plot * (1 - score / 100)

    parts = [
        format_html('<line x1="{}" y1="{}" x2="{}" y2="{}" class="axis"/>', _LEFT, y(v), _W, y(v)) for v in (0, 50, 100)
    ]
    parts += [
        format_html('<text x="{}" y="{}" class="tick" text-anchor="end">{}</text>', _LEFT - 6, y(v) + 4, v)
        for v in (0, 50, 100)
    ]
    for i, (label, figure) in enumerate(points):
        left = _LEFT + i * step + (step - width) / 2
        middle = left + width / 2
        parts.append(
            format_html('<text x="{}" y="{}" class="tick" text-anchor="middle">{}</text>', middle, _H - 14, label)
        )
        if figure.score is None:
            dash = '<text x="{}" y="{}" class="value" text-anchor="middle">—</text>'
            parts.append(format_html(dash, middle, y(0) - 6))
            continue
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" class="bar"/>',
                f"{left:.1f}",
                f"{y(figure.score):.1f}",
                f"{width:.1f}",
                f"{y(0) - y(figure.score):.1f}",
            )
        )
        if figure.margin:
            low, high = max(0.0, figure.score - figure.margin), min(100.0, figure.score + figure.margin)
            parts.append(
                format_html(
                    '<line x1="{}" y1="{}" x2="{}" y2="{}" class="whisker"/>',
                    f"{middle:.1f}",
                    f"{y(low):.1f}",
                    f"{middle:.1f}",
                    f"{y(high):.1f}",
                )
            )
        # The figure inside the bar's foot, in white (clear of the whisker); above a bar too short.
        inside = y(0) - y(figure.score) >= 22
        parts.append(
            format_html(
                '<text x="{}" y="{}" class="{}" text-anchor="middle">{}</text>',
                f"{middle:.1f}",
                f"{y(0) - 8:.1f}" if inside else f"{y(figure.score) - 6:.1f}",
                "value inside" if inside else "value",
                f"{figure.score:.0f}",
            )
        )
    return format_html(
        '<svg class="pulse-chart" viewBox="0 0 {} {}" role="img" aria-labelledby="{}" focusable="false">'
        '<title id="{}">{}</title>{}</svg>',
        _W,
        _H,
        title_id,
        title_id,
        title,
        mark_safe("".join(parts)),  # noqa: S308 -- each part made by format_html
    )


def trend_rows(points: list[tuple[str, PulseFigure]]) -> str:
    return format_html_join(
        "",
        '<tr><th scope="row">{}</th><td class="num">{}</td><td class="num">{}</td></tr>',
        ((label, figure_text(figure), answers_text(figure)) for label, figure in points),
    )


# --- the dashboard -------------------------------------------------------------------------------


@dataclass
class PulseBoard:
    quarter_label: str
    figure: PulseFigure
    figure_text: str
    answers_text: str
    trend_svg: str
    trend_rows: str
    places: list[PlaceRow]
    place_heading: str
    statements: list[tuple[str, str]]
    problems: list[tuple[str, int]]


def area_keys(scope) -> tuple[tuple[str, object], ...]:
    """A supervisor's area as the pulse's place keys: its districts, then its single neighborhoods."""
    return (
        *(("district", name) for name in scope.area_districts),
        *(("neighborhood", pk) for pk in scope.area_neighborhood_ids),
    )


def pulse_board(scope, neighborhoods, categories, last_day: date) -> PulseBoard:
    """The dashboard's card for the scope's place: the quarter holding the period's last day and
    the seven before it. Three statements whatever the number of answers."""
    quarters = quarters_to(last_day, TREND_QUARTERS)
    area = () if scope.district or scope.neighborhood_id else area_keys(scope)
    if len(area) == 1:  # one district or one neighborhood: its own figures
        key, area = area[0], ()
    else:
        key = AREA if area else scope_key(scope.district, scope.neighborhood_id)
    results = pulse_results(neighborhoods, quarters, area)
    current = results[quarters[-1]]
    figure = current.get(key, PulseFigure(0, None, None))
    points = [(quarter_label(q), results[q].get(key, PulseFigure(0, None, None))) for q in quarters]
    if key == CITY:
        names = sorted({n.district for n in neighborhoods if n.district})
        places = [PlaceRow(name, current[("district", name)]) for name in names]
        places += [PlaceRow(n.name, current[("neighborhood", n.pk)]) for n in neighborhoods if not n.district]
        heading = _("District")
    elif key[0] == "district":
        places = [PlaceRow(n.name, current[("neighborhood", n.pk)]) for n in neighborhoods if n.district == key[1]]
        heading = _("Neighborhood")
    elif key == AREA:
        names = {n.pk: n.name for n in neighborhoods}
        places = [PlaceRow(name if kind == "district" else names[name], current[(kind, name)]) for kind, name in area]
        heading = _("District") if all(kind == "district" for kind, _name in area) else _("District or neighborhood")
    else:
        places, heading = [], ""
    statements, problems = [], []
    if figure.score is not None:
        ids = None
        if key == AREA:
            ids = [n.pk for n in neighborhoods if scope.covers(n)]
        elif key != CITY:
            ids = [n.pk for n in neighborhoods if key in {("neighborhood", n.pk), ("district", n.district)}]
        spanish = (get_language() or "en").startswith("es")
        statements = [
            (es if spanish else en, figure_text(PulseFigure(t.n, t.score, t.margin)))
            for en, es, t in statement_scores(quarters[-1], ids)
        ]
        names = {c.pk: c.name for c in categories}
        problems = [(names.get(pk, "?"), n) for pk, n in top_problems(quarters[-1], ids)]
    return PulseBoard(
        quarter_label=quarter_label(quarters[-1]),
        figure=figure,
        figure_text=figure_text(figure),
        answers_text=answers_text(figure),
        trend_svg=trend_svg(points, _("Trust score per quarter"), "pulse-chart-title"),
        trend_rows=trend_rows(points),
        places=places,
        place_heading=heading,
        statements=statements,
        problems=problems,
    )


# --- /transparency/ --------------------------------------------------------------------------------


def pulse_public(neighborhoods, today: date) -> dict:
    """This quarter and the last per district and neighborhood, and the city's trend (one statement)."""
    quarters = quarters_to(today, TREND_QUARTERS)
    results = pulse_results(neighborhoods, quarters)
    now, before = results[quarters[-1]], results[quarter_before(quarters[-1])]
    rows = []
    for name in sorted({n.district for n in neighborhoods if n.district}):
        rows.append(("district", PlaceRow(name, now[("district", name)], before[("district", name)])))
        rows += [
            ("neighborhood", PlaceRow(n.name, now[("neighborhood", n.pk)], before[("neighborhood", n.pk)]))
            for n in neighborhoods
            if n.district == name
        ]
    rows += [  # outside any district: not indented under the last district
        ("alone", PlaceRow(n.name, now[("neighborhood", n.pk)], before[("neighborhood", n.pk)]))
        for n in neighborhoods
        if not n.district
    ]
    return {
        "quarters": [(quarter, results[quarter][CITY]) for quarter in quarters],
        "city": (now[CITY], before[CITY]),
        "rows": rows,
    }


def pulse_public_chart(data: dict) -> dict:
    """The cached figures' chart and table, in the visitor's language."""
    points = [(quarter_label(quarter), figure) for quarter, figure in data["quarters"]]
    return {
        "quarter_label": quarter_label(data["quarters"][-1][0]),
        "before_label": quarter_label(data["quarters"][-2][0]),
        "svg": trend_svg(points, _("Trust score of the whole city per quarter"), "pulse-chart-title"),
        "trend_rows": trend_rows(points),
        "city": PlaceRow(_("Whole city"), *data["city"]),
        "rows": data["rows"],
    }
