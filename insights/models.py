"""Summary tables behind the dashboard, transparency and the stats API (``insights.rollups``).

Each table holds one row per day (``grain`` "d"), one per week ("w", Monday to Sunday) and one
per calendar month ("m"), each the sum of its days, for each key that has anything to count: a
period's figures read its whole months, then the whole weeks left at either end, then the few
days left (``insights.figures.summaries.period_q``), so a year costs about what twelve weeks do. Days are local days in
``settings.TIME_ZONE``. Neighborhoods and categories are keys, so the dashboard's filters and a
neighborhood's district (read at query time, as a category's ``is_public``) narrow what is read.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from cases.models import Category
from outreach.models import Activity
from partners.models import Neighborhood, Partner


class Grain(models.TextChoices):
    DAY = "d", "day"
    WEEK = "w", "week"  # Monday to Sunday, ``period`` the Monday
    MONTH = "m", "month"


class Rollup(models.Model):
    grain = models.CharField(max_length=1, choices=Grain.choices)
    period = models.DateField()  # the day, or the first of the month
    neighborhood = models.ForeignKey(Neighborhood, on_delete=models.CASCADE, related_name="+", db_index=False)

    class Meta:
        abstract = True

    def __str__(self):
        return f"{type(self).__name__} {self.grain} {self.period} in neighborhood {self.neighborhood_id}"


class IssueCounts(models.Model):
    # Reported that day (duplicates merged into another issue left out, as on the dashboard).
    reported = models.PositiveIntegerField(default=0)
    acknowledged = models.PositiveIntegerField(default=0)
    # Resolved, referred or crime report that day (cases.models.FINISHED_OUTCOMES) …
    finished = models.PositiveIntegerField(default=0)
    # … of which by their due time, and of which as a crime report.
    within_sla = models.PositiveIntegerField(default=0)
    crime = models.PositiveIntegerField(default=0)
    # Reopened that day (each reopening counts).
    reopened = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class FeedbackCounts(models.Model):
    responses = models.PositiveIntegerField(default=0)
    not_fixed = models.PositiveIntegerField(default=0)
    satisfaction_sum = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class IssueRollup(IssueCounts, Rollup):
    """Issues, each counted on the day of the date the figure is about, in the issue's category and
    the language of the report that opened it."""

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="+", db_index=False)
    language = models.CharField(max_length=8)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["grain", "period", "neighborhood", "category", "language"], name="issue_rollup_key"
            )
        ]


class ResolutionRollup(Rollup):
    """How long finished issues took, in whole hours from report to finish, by finishing day: a
    histogram exact to the hour, so medians over any period and any filter are exact to the hour."""

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="+", db_index=False)
    language = models.CharField(max_length=8)
    hours = models.PositiveIntegerField()
    issues = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["grain", "period", "neighborhood", "category", "language", "hours"],
                name="resolution_rollup_key",
            )
        ]


class FeedbackRollup(FeedbackCounts, Rollup):
    """Residents' answers, by the day they answered, in the issue's category and language."""

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="+", db_index=False)
    language = models.CharField(max_length=8)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["grain", "period", "neighborhood", "category", "language"], name="feedback_rollup_key"
            )
        ]


class OutreachRollup(Rollup):
    """Outreach activities by the day they started and their kind. Rows with no category count
    every activity; an activity linked to issues or a problem of a category also counts in a row
    of that category (once per category), for the dashboard's category filter."""

    kind = models.CharField(max_length=20, choices=Activity.Kind.choices)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    activities = models.PositiveIntegerField(default=0)
    hours = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    attendance = models.PositiveIntegerField(default=0)

    class Meta:
        # Replaced, never upserted (``rollups``): an index, as the key holds a NULL. The measures
        # are in it too: a period's rows are read from the index alone.
        indexes = [
            models.Index(
                fields=["grain", "period", "neighborhood", "kind", "category", "activities", "hours", "attendance"],
                name="outreach_rollup_period_idx",
            )
        ]


class EngagementRollup(Rollup):
    """Partners engaged: one row per partner that took part in an activity that day or month (with
    the same category rows as ``OutreachRollup``), so "partners engaged" over any period is a
    count of distinct partners over these rows."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+", db_index=False)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    activities = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["grain", "period", "neighborhood", "partner"], name="engagement_rollup_period_idx")
        ]


# What a ``PlaceRollup`` row counts: the issue and feedback counts, summed.
PLACE_MEASURES = (
    "reported",
    "acknowledged",
    "finished",
    "within_sla",
    "crime",
    "reopened",
    "responses",
    "not_fixed",
    "satisfaction_sum",
)


class PlaceRollup(IssueCounts, FeedbackCounts, Rollup):
    """``IssueRollup`` and ``FeedbackRollup`` summed over categories and languages, per neighborhood,
    split by whether the category is public: what the dashboard (both rows) and /transparency/
    (public rows) read, about fifty rows a day whatever the number of issues."""

    public = models.BooleanField()

    class Meta:
        # Replaced, never upserted (``rollups``): an index on the key followed by the measures, so
        # a period's rows are read from the index alone, without a table page per row.
        indexes = [
            models.Index(
                fields=["grain", "period", "neighborhood", "public", *PLACE_MEASURES],
                name="place_rollup_idx",
            )
        ]


class CityRows(models.Model):
    """A table with rows for the whole city and for each district too (``insights.rollups.CITY``):
    ``neighborhood`` None and ``district`` blank, the sum of every neighborhood's rows; ``neighborhood``
    None and ``district`` named, the sum of that district's neighborhoods' rows (a neighborhood's
    own rows leave ``district`` blank). A city-wide or district read takes one row per period and
    key, not one per neighborhood. A neighborhood moved to another district re-logs the days its
    issues count on (``cases.figure_changes``): the worker sums both districts again."""

    neighborhood = models.ForeignKey(
        Neighborhood, null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    district = models.CharField(max_length=80, blank=True, default="")

    class Meta:
        abstract = True


class PlaceResolutionRollup(CityRows, Rollup):
    """``ResolutionRollup`` summed over categories and languages: the hour histogram per
    neighborhood (public or not), and for the city. A median reads its band first
    (``PlaceBandRollup``), then only the hours of the band the middle falls in."""

    public = models.BooleanField()
    hours = models.PositiveIntegerField()
    issues = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["grain", "period", "neighborhood", "district", "public", "hours"],
                name="place_resolution_rollup_key",
            )
        ]


class PlaceBandRollup(CityRows, Rollup):
    """The same histogram in bands (``insights.rollups.band_of``: a day wide for the first four weeks,
    then a week wide), a few dozen rows per neighborhood and period."""

    public = models.BooleanField()
    band = models.PositiveIntegerField()
    issues = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["grain", "period", "neighborhood", "district", "public", "band"], name="place_band_rollup_key"
            )
        ]


class OfficerRollup(CityRows, models.Model):
    """Issues each officer finished (and of those, by their due time), by finishing day, per
    neighborhood and for each district and the whole city (``CityRows``), so the dashboard's workload
    table reads a row per officer and period for the city or a district."""

    grain = models.CharField(max_length=1, choices=Grain.choices)
    period = models.DateField()
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    finished = models.PositiveIntegerField(default=0)
    within_sla = models.PositiveIntegerField(default=0)

    class Meta:
        # Replaced, never upserted (``rollups``): an index, as the city rows' key holds a NULL;
        # with the measures, so a period's rows are read from the index alone.
        indexes = [
            models.Index(
                fields=["grain", "period", "neighborhood", "district", "assignee", "finished", "within_sla"],
                name="officer_rollup_period_idx",
            )
        ]

    def __str__(self):
        return f"OfficerRollup {self.grain} {self.period} officer {self.assignee_id}"


class PartnerSetRollup(Rollup):
    """The partners engaged, as a set: bit ``i`` of ``partners`` (little-endian bytes) is set when
    partner ``i`` took part in an activity that day, week or month (category rows as in
    ``OutreachRollup``). "Partners engaged" over any period is the number of bits in the union of
    its rows: one row per neighborhood and period read, however many partners."""

    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    partners = models.BinaryField()

    class Meta:
        indexes = [
            models.Index(fields=["grain", "period", "neighborhood", "category"], name="partner_set_rollup_period_idx")
        ]


class OpenRollup(Rollup):
    """Issues still open now, by the day they were reported (the dashboard's cohort), per
    neighborhood and category: open, and of those overdue and escalated. (Waiting for a decision is
    read live from its own partial index: a supervisor who decides sees the count drop at once.)

    A row changes when one of its issues does (its report day is logged, ``cases.figure_changes``;
    the escalation sweep logs the days of the issues it escalates) and as time passes: ``overdue``
    counts the issues due before ``OpenMark.as_of``, and the worker moves the mark on, recomputing
    the days of the issues that fell due meanwhile (``insights.rollups.rollups_advance_open``). A
    reader adds the issues that fell due between the mark and now (a read of the open issues' due
    index, ``insights.figures.issues``)."""

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="+", db_index=False)
    open = models.PositiveIntegerField(default=0)
    overdue = models.PositiveIntegerField(default=0)
    escalated = models.PositiveIntegerField(default=0)

    class Meta:
        # As ``PlaceRollup``: the key with the measures (a twelve-week read was 8 000 table pages).
        indexes = [
            models.Index(
                fields=["grain", "period", "neighborhood", "category", "open", "overdue", "escalated"],
                name="open_rollup_idx",
            )
        ]


class OpenOfficerRollup(CityRows, models.Model):
    """The same for each officer's open issues, per neighborhood, district and for the whole city
    (``CityRows``): the dashboard's workload table reads a row per officer and period."""

    grain = models.CharField(max_length=1, choices=Grain.choices)
    period = models.DateField()
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    open = models.PositiveIntegerField(default=0)
    overdue = models.PositiveIntegerField(default=0)
    escalated = models.PositiveIntegerField(default=0)

    class Meta:
        # Replaced, never upserted (``rollups``): an index, as the city rows' key holds a NULL;
        # with the measures, so a period's rows are read from the index alone.
        indexes = [
            models.Index(
                fields=["grain", "period", "neighborhood", "district", "assignee", "open", "overdue", "escalated"],
                name="open_officer_rollup_idx",
            )
        ]

    def __str__(self):
        return f"OpenOfficerRollup {self.grain} {self.period} officer {self.assignee_id}"


class OpenMark(models.Model):
    """The moment the open tables' ``overdue`` counts are as of (one row, pk 1): issues due before
    it. Moved on by the worker together with the rows it changes (``rollups_advance_open``)."""

    as_of = models.DateTimeField()

    def __str__(self):
        return f"open tables overdue as of {self.as_of}"


class RollupRepair(models.Model):
    """One nightly check of the summary tables against the raw rows (``rollups_repair``)."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    first_day = models.DateField()
    last_day = models.DateField()
    rows_checked = models.PositiveIntegerField(default=0)
    # Rows that differed from a recomputation (and were put right), per table.
    drift = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self):
        return f"Rollup check {self.first_day}..{self.last_day}: {sum(self.drift.values())} rows repaired"


# --- Community trust pulse (``insights.pulse``) -----------------------------------------------
# An anonymous survey: no account, no contact, no address, no time finer than the quarter. A
# response keeps the quarter, the neighborhood the resident chose, the language of the page, the
# resident's score and the optional "number one problem"; its answers keep the statement and the
# value. Its key is random, so the order of the rows does not tell the order of the answers.


class PulseStatement(models.Model):
    """One statement residents rate from 1 ("strongly disagree") to 5 ("strongly agree"); the
    survey asks the active ones (three to five), in ``position`` order. Edited in the admin."""

    text_en = models.CharField("statement (English)", max_length=200)
    text_es = models.CharField("statement (Spanish)", max_length=200)
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.text_en

    def text(self, language: str) -> str:
        return self.text_es if (language or "").startswith("es") else self.text_en


class PulseResponse(models.Model):
    id = models.UUIDField(primary_key=True, editable=False)
    quarter = models.DateField()  # the first day of the quarter it was answered in
    neighborhood = models.ForeignKey(Neighborhood, on_delete=models.CASCADE, related_name="+")
    language = models.CharField(max_length=8)
    # 0–100: the mean of the resident's answers, 1 → 0 and 5 → 100. An area's score is the mean
    # of its residents' scores, with its margin of error from their spread.
    score = models.FloatField()
    top_problem = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["quarter", "neighborhood"], name="pulse_quarter_place_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(score__gte=0, score__lte=100), name="pulse_score_0_100"),
        ]

    def __str__(self):
        return f"pulse answer {self.quarter} in neighborhood {self.neighborhood_id}"


class PulseAnswer(models.Model):
    response = models.ForeignKey(PulseResponse, on_delete=models.CASCADE, related_name="answers")
    # A statement once answered is kept (deactivated, not deleted): its answers are the trend.
    statement = models.ForeignKey(PulseStatement, on_delete=models.PROTECT, related_name="answers")
    value = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "statement"], name="pulse_answer_once"),
            models.CheckConstraint(condition=models.Q(value__gte=1, value__lte=5), name="pulse_value_1_5"),
        ]

    def __str__(self):
        return f"{self.value} to statement {self.statement_id}"
