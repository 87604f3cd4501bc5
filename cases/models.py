import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.response_templates import placeholder_errors
from core.models import QuickChoiceDisplay, TrackedFields
from core.text import in_language
from partners.models import Neighborhood, Partner

# Unambiguous alphabet for codes residents read aloud over the phone.
TRACKING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_tracking_code() -> str:
    body = "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(8))
    return f"CG-{body[:4]}-{body[4:]}"


def tracking_code_normalize(text: str, *, strict: bool = False) -> str | None:
    """'cg-abcd-2345', 'CG ABCD 2345', 'abcd2345' → 'CG-ABCD-2345'; None when it cannot be a code.

    Codes use only TRACKING_ALPHABET (no I, O, 0, 1). ``strict`` is for fields
    where ordinary words are typed too (the outreach form's list of issues): a
    bare eight-character run then counts only with a digit in it, so
    "mattress" is not taken for a code; with the CG prefix or a separator
    between the halves it always counts.
    """
    raw = (text or "").strip().upper()
    letters = "".join(ch for ch in raw if ch.isalnum())
    prefixed = len(letters) == 10 and letters.startswith("CG")
    if prefixed:
        letters = letters[2:]
    if len(letters) != 8 or any(ch not in TRACKING_ALPHABET for ch in letters):
        return None
    separated = len(raw) > len(letters)
    if strict and not (prefixed or separated or any(ch.isdigit() for ch in letters)):
        return None
    return f"CG-{letters[:4]}-{letters[4:]}"


def new_api_key() -> str:
    return secrets.token_urlsafe(32)


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


PRIORITY_ORDER = [Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT]


class Approach(models.TextChoices):
    DETER = "deter", _("Deter")
    PROBLEM_SOLVE = "problem_solve", _("Problem-solve")
    ENFORCE = "enforce", _("Enforce")


# What each approach means, in a sentence: the issue page says it beside the approach chosen.
APPROACH_MEANINGS = {
    Approach.DETER: _("Prevent it by being seen: patrols, lighting, signs, a word with those involved."),
    Approach.PROBLEM_SOLVE: _("Fix the cause with partners and residents so it does not come back."),
    Approach.ENFORCE: _("Use the law: citations, tows, code enforcement or arrests."),
}


class Category(models.Model):
    """A kind of quality-of-life issue, its Open311 service, and its SLA in hours."""

    name_en = models.CharField(max_length=120)
    name_es = models.CharField(max_length=120)
    hint_en = models.CharField(max_length=200, blank=True, help_text="One-line hint on the resident form.")
    hint_es = models.CharField(max_length=200, blank=True)
    service_code = models.SlugField(max_length=60, unique=True, help_text="Open311 service_code.")
    group_en = models.CharField(max_length=80, help_text="Theme the form groups by; Open311 group.")
    group_es = models.CharField(max_length=80, blank=True)
    keywords = models.CharField(max_length=200, blank=True, help_text="Comma-separated Open311 keywords.")
    is_public = models.BooleanField(
        default=True, help_text="Public listings (status pages, Open311, transparency) may show it."
    )
    is_active = models.BooleanField(default=True)
    target_hours_low = models.PositiveIntegerField(default=240)
    target_hours_normal = models.PositiveIntegerField(default=120)
    target_hours_high = models.PositiveIntegerField(default=48)
    target_hours_urgent = models.PositiveIntegerField(default=8)
    hotspot_threshold = models.PositiveIntegerField(
        default=3, help_text="Open issues in one neighborhood within the window that make a hot spot."
    )
    hotspot_window_hours = models.PositiveIntegerField(default=14 * 24)
    # Shown with the category on the resident form, before the report is written: "call 911 now",
    # "the city's 311 handles this" (with its link). With ``notice_stops`` the category takes no
    # report through any channel: the notice says where to go instead.
    notice_en = models.TextField(max_length=500, blank=True, help_text="Shown with the category on the form.")
    notice_es = models.TextField(max_length=500, blank=True)
    notice_url = models.URLField(blank=True, help_text="A link the notice points to (e.g. the city's 311).")
    notice_stops = models.BooleanField(
        default=False, help_text="The form takes no report of this category: the notice says where to go instead."
    )
    fixed_check_days = models.PositiveSmallIntegerField(
        default=7,
        help_text='Days after an issue is resolved to ask its reporter by email "is it fixed?"; 0: never.',
    )
    sort_order = models.PositiveIntegerField(default=0)
    # Stamped on every save, so each process's copy of the active categories (the resident form's
    # lookup, cases.selectors.public.active_category) sees an edit made by another process.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["group_en", "sort_order", "name_en"]
        verbose_name_plural = "categories"
        constraints = [
            models.CheckConstraint(
                condition=Q(target_hours_urgent__gt=0)
                & Q(target_hours_urgent__lte=F("target_hours_high"))
                & Q(target_hours_high__lte=F("target_hours_normal"))
                & Q(target_hours_normal__lte=F("target_hours_low")),
                name="category_sla_hours_ordered",
            ),
            models.CheckConstraint(condition=Q(hotspot_threshold__gte=2), name="category_hotspot_threshold_min2"),
            models.CheckConstraint(condition=Q(hotspot_window_hours__gt=0), name="category_hotspot_window_positive"),
            # A category that takes no report says where to go instead.
            models.CheckConstraint(condition=Q(notice_stops=False) | ~Q(notice_en=""), name="category_stop_has_notice"),
        ]

    def __str__(self):
        return self.name

    @property
    def name(self):
        return in_language(self.name_en, self.name_es)

    @property
    def hint(self):
        return in_language(self.hint_en, self.hint_es)

    @property
    def notice(self):
        return in_language(self.notice_en, self.notice_es)

    @property
    def group(self):
        return in_language(self.group_en, self.group_es)

    def target_hours(self, priority) -> int:
        return getattr(self, f"target_hours_{priority}")


class CategoryAttribute(models.Model):
    """An extra question a category asks (Open311 service definition attribute)."""

    class Datatype(models.TextChoices):
        STRING = "string", "string"
        NUMBER = "number", "number"
        DATETIME = "datetime", "datetime"
        TEXT = "text", "text"
        SINGLEVALUELIST = "singlevaluelist", "singlevaluelist"
        MULTIVALUELIST = "multivaluelist", "multivaluelist"

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="attributes")
    code = models.SlugField(max_length=60)
    datatype = models.CharField(max_length=20, choices=Datatype.choices, default=Datatype.STRING)
    required = models.BooleanField(default=False)
    description_en = models.CharField(max_length=200)
    description_es = models.CharField(max_length=200, blank=True)
    datatype_description = models.CharField(max_length=200, blank=True)
    values = models.JSONField(default=list, blank=True, help_text='List of {"key": ..., "name": ...} for lists.')
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["category", "order", "code"]
        constraints = [models.UniqueConstraint(fields=["category", "code"], name="categoryattr_code_unique")]

    def __str__(self):
        return f"{self.category.service_code}:{self.code}"


class EscalationRule(models.Model):
    """One rung of a category's escalation ladder: N hours past due_at → action."""

    class Action(models.TextChoices):
        RAISE_PRIORITY = "raise_priority", _("Raise priority")
        NOTIFY_SUPERVISOR = "notify_supervisor", _("Notify the neighborhood's supervisor")
        NOTIFY_COMMANDER = "notify_commander", _("Notify the district commander")
        NEEDS_DECISION = "needs_decision", _("Put on the dashboard's 'needs a decision' list")
        OPEN_PROBLEM = "open_problem", _("Open a Problem")

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="escalation_rules")
    level = models.PositiveSmallIntegerField()
    hours_overdue = models.PositiveIntegerField(help_text="Hours past due_at when this level fires.")
    action = models.CharField(max_length=32, choices=Action.choices)

    class Meta:
        ordering = ["category", "level"]
        constraints = [
            models.UniqueConstraint(fields=["category", "level"], name="escalationrule_level_unique"),
            models.CheckConstraint(condition=Q(level__gte=1), name="escalationrule_level_min1"),
        ]

    def __str__(self):
        return f"{self.category.service_code} L{self.level}: +{self.hours_overdue}h {self.action}"


class Problem(QuickChoiceDisplay, models.Model):
    """A SARA problem-solving project grouping related issues."""

    class Stage(models.TextChoices):
        SCANNING = "scanning", _("Scanning")
        ANALYSIS = "analysis", _("Analysis")
        RESPONSE = "response", _("Response")
        ASSESSMENT = "assessment", _("Assessment")
        CLOSED = "closed", _("Closed")

    class Source(models.TextChoices):
        MANUAL = "manual", _("Opened by hand")
        HOTSPOT = "hotspot", _("Hot spot detected")
        ESCALATION = "escalation", _("Escalation")

    class Outcome(models.TextChoices):
        ELIMINATED = "eliminated", _("Problem eliminated")
        REDUCED = "reduced", _("Problem reduced")
        HANDLED_BETTER = "handled_better", _("Handled better")
        DISPLACED = "displaced", _("Displaced")
        NO_CHANGE = "no_change", _("No change")

    title = models.CharField(max_length=200)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT, related_name="problems")
    neighborhood = models.ForeignKey(
        Neighborhood, null=True, blank=True, on_delete=models.PROTECT, related_name="problems"
    )
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.SCANNING)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.MANUAL)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_problems"
    )
    partners = models.ManyToManyField(Partner, related_name="problems", blank=True)
    approach = models.CharField(max_length=16, choices=Approach.choices, blank=True)
    # Problem triangle, described in aggregate — never profiles of people.
    analysis_place = models.TextField(blank=True)
    analysis_harmed = models.TextField(blank=True)
    analysis_causing = models.TextField(blank=True)
    analysis_when = models.TextField(blank=True)
    analysis_why = models.TextField(blank=True)
    response_plan = models.TextField(blank=True)
    response_started_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    outcome_note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # Hot-spot detection finds the open Problem of a category in a neighborhood.
            models.Index(fields=["category", "neighborhood", "stage"], name="problem_cat_nbhd_stage_idx"),
            # Problem list by stage.
            models.Index(fields=["stage", "-created_at"], name="problem_stage_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(stage="closed", closed_at__isnull=False) | (~Q(stage="closed") & Q(closed_at__isnull=True)),
                name="problem_closed_at_iff_closed",
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return f"/problems/{self.pk}/"


class IssueStatus(models.TextChoices):
    NEW = "new", _("New")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    IN_PROGRESS = "in_progress", _("In progress")
    ON_HOLD = "on_hold", _("On hold")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    DUPLICATE = "duplicate", _("Duplicate")
    REFERRED = "referred", _("Referred")


class IssueOutcome(models.TextChoices):
    RESOLVED = "resolved", _("Resolved")
    REFERRED = "referred", _("Referred to another agency")
    CRIME_REPORT = "crime_report", _("Became a crime report")
    DUPLICATE = "duplicate", _("Duplicate")


# The status sets, stated once: Issue's attributes, its index conditions and every query use these.
# Statuses in which an issue is still open and its SLA clock can run.
OPEN_STATUSES = (IssueStatus.NEW, IssueStatus.ACKNOWLEDGED, IssueStatus.IN_PROGRESS, IssueStatus.ON_HOLD)
# Statuses that escalate when overdue (on hold pauses the clock).
ESCALATING_STATUSES = (IssueStatus.NEW, IssueStatus.ACKNOWLEDGED, IssueStatus.IN_PROGRESS)
FINISHED_STATUSES = (IssueStatus.RESOLVED, IssueStatus.CLOSED, IssueStatus.DUPLICATE, IssueStatus.REFERRED)
# Outcomes of an issue finished on its own (not merged into another): the figures count these.
FINISHED_OUTCOMES = (IssueOutcome.RESOLVED, IssueOutcome.REFERRED, IssueOutcome.CRIME_REPORT)


class Issue(TrackedFields, QuickChoiceDisplay, models.Model):
    """One quality-of-life problem at one place."""

    # What the figures read (cases.figure_changes logs the days a change to them touches).
    TRACKED_FIELDS = (
        "neighborhood_id",
        "category_id",
        "language",
        "assignee_id",
        "created_at",
        "acknowledged_at",
        "resolved_at",
        "due_at",
        "status",
        "outcome",
        "escalation_level",
        "needs_decision",
    )

    Status = IssueStatus
    OPEN_STATUSES = OPEN_STATUSES
    ESCALATING_STATUSES = ESCALATING_STATUSES
    FINISHED_STATUSES = FINISHED_STATUSES
    Outcome = IssueOutcome
    FINISHED_OUTCOMES = FINISHED_OUTCOMES

    # Unique through Meta.constraints: one index, without the LIKE (varchar_pattern_ops) twin that
    # ``unique=True`` adds on PostgreSQL — code searches are ``icontains``, which it cannot serve.
    tracking_code = models.CharField(max_length=16, default=new_tracking_code, editable=False)
    # Indexed as the leading column of issue_cat_nbhd_created_idx; a second index only taxes writes.
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="issues", db_index=False)
    # Indexed as the leading column of issue_nbhd_created_idx.
    neighborhood = models.ForeignKey(Neighborhood, on_delete=models.PROTECT, related_name="issues", db_index=False)
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    address = models.CharField(max_length=200, blank=True)
    # The address as the public reads it (Open311 ``address``): typed by the resident, so masked
    # like the description — a phone number or a name typed here is no less personal.
    public_address = models.CharField(max_length=200, blank=True)
    # Open311 clients may name the place by their own address database's id; echoed in GET requests.
    address_id = models.CharField(max_length=64, blank=True)
    description = models.TextField(max_length=5000)
    # What the public reads of the description: the same text with emails, phone numbers and the
    # reporter's name masked (cases.redaction), written with the description, or a moderator's
    # edit. Public surfaces read only this; staff read ``description``.
    public_description = models.TextField(max_length=5000, blank=True)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    approach = models.CharField(max_length=16, choices=Approach.choices, blank=True)
    # Indexed as the leading column of issue_assignee_created_idx.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_issues",
        db_index=False,
    )
    # problem and duplicate_of are empty on most issues: partial indexes (Meta) hold only the set ones.
    problem = models.ForeignKey(
        Problem, null=True, blank=True, on_delete=models.SET_NULL, related_name="issues", db_index=False
    )
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="duplicates", db_index=False
    )
    created_at = models.DateTimeField(db_index=False)
    updated_at = models.DateTimeField(auto_now=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField()
    hold_started_at = models.DateTimeField(null=True, blank=True)
    hold_reason = models.CharField(max_length=300, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    needs_decision = models.BooleanField(default=False)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    resolution_note = models.TextField(blank=True)
    referred_to = models.CharField(max_length=160, blank=True)
    crime_report_number = models.CharField(max_length=40, blank=True)
    reopen_count = models.PositiveSmallIntegerField(default=0)
    report_count = models.PositiveIntegerField(default=0)
    # The language of the report that opened it (the dashboard's language parity, the rollups' key).
    language = models.CharField(max_length=8, default="en")

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The escalation sweep: open, escalating issues ordered by due_at.
            models.Index(
                fields=["due_at"],
                name="issue_open_due_idx",
                condition=Q(status__in=list(ESCALATING_STATUSES)),
            ),
            # Officer queue / neighborhood pages: open issues per neighborhood by due time.
            models.Index(
                fields=["neighborhood", "due_at"],
                name="issue_open_nbhd_due_idx",
                condition=Q(status__in=list(OPEN_STATUSES)),
            ),
            # Hot-spot detection and "same problem nearby": open issues of a category in a neighborhood.
            models.Index(fields=["category", "neighborhood", "created_at"], name="issue_cat_nbhd_created_idx"),
            # Lists by creation date, and the dashboard's whole-city figures: the issues reported in
            # a period, with every column those figures read, so the period is read from the index
            # alone. (Key columns rather than INCLUDE, which SQLite — the embedded mode — lacks.)
            models.Index(
                fields=[
                    "created_at",
                    "neighborhood",
                    "category",
                    "assignee",
                    "status",
                    "due_at",
                    "escalation_level",
                    "needs_decision",
                    "outcome",
                    "resolved_at",
                ],
                name="issue_period_idx",
            ),
            # Lists of one category or one neighborhood, newest first (/issues/, the API, Open311's
            # service_code): read backwards from the newest and stopped after a page. The id ends
            # each list index's key: it is the keyset's tiebreak (core.pagination), and the capped
            # count then reads the index alone.
            models.Index(fields=["category", "created_at", "id"], name="issue_cat_created_idx"),
            models.Index(fields=["neighborhood", "created_at", "id"], name="issue_nbhd_created_idx"),
            # The API's other orders: soonest due (over every issue; the open ones have their own
            # index above), and recently changed first — how a client keeps a copy in step.
            models.Index(fields=["due_at", "id"], name="issue_due_idx"),
            models.Index(fields=["updated_at", "id"], name="issue_updated_idx"),
            # /issues/?priority=: one priority newest first.
            models.Index(fields=["priority", "created_at", "id"], name="issue_priority_created_idx"),
            # /issues/?assignee= (and the API's): one officer's issues newest first. Without it the
            # planner walks the whole table in created order for an officer who has none. Also the
            # look-up when a user is deleted. (It replaced (assignee, status): a report writes as
            # many index entries as before.)
            models.Index(fields=["assignee", "created_at", "id"], name="issue_assignee_created_idx"),
            # "My queue", read branch by branch in due order (cases.selectors.issues): the open
            # issues assigned to me, and the unassigned open issues of each of my neighborhoods.
            models.Index(
                fields=["assignee", "due_at", "id"],
                name="issue_open_assignee_due_idx",
                condition=Q(status__in=list(OPEN_STATUSES)),
            ),
            models.Index(
                fields=["neighborhood", "due_at", "id"],
                name="issue_unassigned_nbhd_due_idx",
                condition=Q(status__in=list(OPEN_STATUSES), assignee__isnull=True),
            ),
            # Triage: the open issues nobody has taken, of one priority (or all), newest first.
            models.Index(
                fields=["priority", "created_at", "id"],
                name="issue_unassigned_priority_idx",
                condition=Q(status__in=list(OPEN_STATUSES), assignee__isnull=True),
            ),
            # Status filters on the issue list and dashboard.
            models.Index(fields=["status", "created_at", "id"], name="issue_status_created_idx"),
            # A Problem's issues; the duplicates of an issue (and the deletion checks on both).
            # Its key also holds what the dashboard's Problem table reads of those issues (how many,
            # how many open, their centre), so that read is index-only.
            models.Index(
                fields=["problem", "status", "lat", "lng"],
                name="issue_problem_idx",
                condition=Q(problem__isnull=False),
            ),
            models.Index(
                fields=["duplicate_of"], name="issue_duplicate_of_idx", condition=Q(duplicate_of__isnull=False)
            ),
            # Dashboard whole-city figures: issues finished in a period (and reported before it),
            # with what those figures read, index-only.
            models.Index(
                fields=["resolved_at", "created_at", "neighborhood", "category", "assignee", "due_at", "outcome"],
                name="issue_finished_period_idx",
                condition=Q(outcome__in=list(FINISHED_OUTCOMES)),
            ),
            # "Needs a decision" list on the dashboard.
            models.Index(fields=["due_at"], name="issue_needs_decision_idx", condition=Q(needs_decision=True)),
            # Dashboard figures filtered by place or category (feedback, outreach) look up an
            # issue's neighborhood and category by id: index-only, no heap visit. (Key columns
            # rather than INCLUDE, which SQLite — the embedded mode — does not support.)
            models.Index(fields=["id", "neighborhood", "category"], name="issue_id_place_idx"),
            # Dashboard: the open issues reported in a period, with what their state now reads
            # (index-only), and the map's oldest open issues (markers are capped, oldest first).
            models.Index(
                fields=[
                    "created_at",
                    "neighborhood",
                    "category",
                    "assignee",
                    "status",
                    "due_at",
                    "escalation_level",
                    "needs_decision",
                ],
                name="issue_open_cohort_idx",
                condition=Q(status__in=list(OPEN_STATUSES)),
            ),
            # Public transparency page: finished issues per neighborhood by resolution time, with what
            # the median and the public-category filter read (index-only; key columns, see above).
            models.Index(
                fields=["neighborhood", "resolved_at", "created_at", "category"],
                name="issue_finished_nbhd_idx",
                condition=Q(outcome__in=list(FINISHED_OUTCOMES)),
            ),
            # Public transparency page: issues reported per neighborhood (duplicates left out), index-only.
            models.Index(
                fields=["neighborhood", "created_at", "category"],
                name="issue_reported_nbhd_idx",
                condition=~Q(status=IssueStatus.DUPLICATE),
            ),
            # Dashboard "waiting for a decision" table, most overdue first, filtered by place and period:
            # read in due_at order and stopped after the first rows that match, the place and period
            # checked in the index (the planner underestimates how many issues match, so without it
            # it fetches all of them and sorts).
            models.Index(
                fields=["due_at", "neighborhood", "created_at", "status"],
                name="issue_decision_due_place_idx",
                condition=Q(needs_decision=True),
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["tracking_code"], name="issue_tracking_code_unique"),
            models.CheckConstraint(
                condition=~Q(outcome=IssueOutcome.CRIME_REPORT) | ~Q(crime_report_number=""),
                name="issue_crime_outcome_has_number",
            ),
            models.CheckConstraint(
                condition=Q(crime_report_number="") | Q(outcome=IssueOutcome.CRIME_REPORT),
                name="issue_crime_number_only_with_outcome",
            ),
            models.CheckConstraint(
                condition=(Q(status=IssueStatus.DUPLICATE) & Q(duplicate_of__isnull=False))
                | (~Q(status=IssueStatus.DUPLICATE) & Q(duplicate_of__isnull=True)),
                name="issue_duplicate_of_iff_duplicate",
            ),
            models.CheckConstraint(condition=~Q(duplicate_of=F("id")), name="issue_not_duplicate_of_itself"),
            models.CheckConstraint(
                condition=(Q(status=IssueStatus.ON_HOLD) & Q(hold_started_at__isnull=False))
                | (~Q(status=IssueStatus.ON_HOLD) & Q(hold_started_at__isnull=True)),
                name="issue_hold_started_iff_on_hold",
            ),
            models.CheckConstraint(
                condition=Q(status__in=list(FINISHED_STATUSES)) | Q(outcome=""),
                name="issue_open_has_no_outcome",
            ),
            models.CheckConstraint(
                condition=Q(lat__isnull=True, lng__isnull=True)
                | Q(lat__gte=-90, lat__lte=90, lng__gte=-180, lng__lte=180),
                name="issue_latlng_valid",
            ),
            models.CheckConstraint(condition=Q(due_at__gt=F("created_at")), name="issue_due_after_created"),
        ]
        permissions = [
            ("work_issue", "Can work issues (acknowledge, assign, note, resolve…)"),
            ("view_dashboard", "Can view the supervisor dashboard"),
            ("view_all_contact_details", "Can view residents' contact details on every issue"),
            ("export_data", "Can export CSV"),
            ("moderate", "Can moderate what the public sees: public text, reports and photos"),
            ("view_audit", "Can view every user's reveals of contact details and moderations"),
        ]

    def __str__(self):
        return f"{self.tracking_code} {self.category}"

    def get_absolute_url(self):
        return f"/issues/{self.pk}/"

    @property
    def is_open(self):
        return self.status in self.OPEN_STATUSES


class Report(models.Model):
    """A resident's (or officer's, partner's, 311 app's) submission attached to an issue."""

    class Channel(models.TextChoices):
        WEB = "web", _("Web form")
        PHONE = "phone", _("Phone")
        OFFICER = "officer", _("Officer")
        OPEN311 = "open311", _("Open311")
        PARTNER = "partner", _("Partner")
        API = "api", _("API")

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="reports")

    class PhotoState(models.TextChoices):
        NONE = "", _("No photo")
        PENDING = "pending", _("Waiting for review")
        APPROVED = "approved", _("Approved")
        HIDDEN = "hidden", _("Hidden")

    text = models.TextField(max_length=5000)
    # The text as the public reads it (masked like Issue.public_description).
    public_text = models.TextField(max_length=5000, blank=True)
    # A moderator took the report out of public view (the issue itself stays).
    is_hidden = models.BooleanField(default=False)
    # The resident's photo as received (re-encoded, no metadata): staff only.
    photo = models.ImageField(upload_to="reports/%Y/%m/", blank=True)
    photo_state = models.CharField(max_length=10, choices=PhotoState.choices, blank=True, default="")
    # The copy the public may see, written when a moderator approves the photo, deleted when hidden.
    public_photo = models.ImageField(upload_to="public/%Y/%m/", blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.WEB)
    language = models.CharField(max_length=8, default="en")
    is_anonymous = models.BooleanField(default=False)
    # Contact details live in their own columns so they can be kept out of
    # every public answer and every log line, and audited on view.
    reporter_name = models.CharField(max_length=120, blank=True)
    reporter_email = models.EmailField(blank=True)
    reporter_phone = models.CharField(max_length=40, blank=True)
    contact_consent = models.BooleanField(default=False)
    # When the retention task erased the contact details (CONTACT_RETENTION_DAYS after the issue finished).
    contact_erased_at = models.DateTimeField(null=True, blank=True)
    # Anonymous two-way messages: a keyed hash of the private message key the reporter was shown
    # once; the key itself is never stored.
    message_key_hash = models.CharField(max_length=64, blank=True)
    attributes = models.JSONField(default=dict, blank=True, help_text="Answers to the category's extra questions.")
    open311_client = models.ForeignKey(
        "ApiClient", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    open311_token = models.CharField(max_length=40, blank=True)
    media_url = models.URLField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports_entered"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at"]
        indexes = [
            # An issue's reports in order.
            models.Index(fields=["issue", "created_at"], name="report_issue_created_idx"),
            # Open311 GET tokens/<token>.
            models.Index(fields=["open311_token"], name="report_open311_token_idx", condition=~Q(open311_token="")),
            # The retention sweep: reports still holding contact details, by issue.
            models.Index(
                fields=["issue"],
                name="report_has_contact_idx",
                condition=~Q(reporter_name="") | ~Q(reporter_email="") | ~Q(reporter_phone=""),
            ),
            # A message key unlocks its report's thread.
            models.Index(fields=["message_key_hash"], name="report_message_key_idx", condition=~Q(message_key_hash="")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_anonymous=False)
                | Q(reporter_name="", reporter_email="", reporter_phone="", contact_consent=False),
                name="report_anonymous_has_no_contact",
            ),
        ]

    def __str__(self):
        return f"Report {self.pk} on {self.issue_id}"

    @property
    def has_contact(self):
        return bool(self.reporter_name or self.reporter_email or self.reporter_phone)


class Event(QuickChoiceDisplay, models.Model):
    """An issue's timeline and audit trail: every change, who made it, when."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Reported")
        REPORT_ADDED = "report_added", _("Another report joined")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        ASSIGNED = "assigned", _("Assigned")
        APPROACH = "approach", _("Approach chosen")
        PRIORITY = "priority", _("Priority changed")
        STATUS = "status", _("Status changed")
        NOTE = "note", _("Note")
        HELD = "held", _("Put on hold")
        RESUMED = "resumed", _("Resumed")
        DUPLICATE = "duplicate", _("Marked as duplicate")
        REFERRED = "referred", _("Referred to another agency")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")
        CRIME_REPORT = "crime_report", _("Became a crime report")
        REOPENED = "reopened", _("Reopened")
        ESCALATED = "escalated", _("Escalated")
        PROBLEM = "problem", _("Linked to a problem-solving project")
        FEEDBACK = "feedback", _("Resident feedback")
        CONTACT_VIEWED = "contact_viewed", _("Contact details viewed")
        OUTREACH = "outreach", _("Outreach activity linked")
        MODERATED = "moderated", _("Moderated")
        CONTACT_ERASED = "contact_erased", _("Contact details erased")
        MESSAGE_RECEIVED = "message_received", _("Message from the resident")
        MESSAGE_REPLIED = "message_replied", _("Reply to the resident")
        RECATEGORIZED = "recategorized", _("Category changed")

    # Kinds the audit log (/audit/) lists: who saw contact details, who changed what the public sees.
    AUDIT_KINDS = ("contact_viewed", "moderated", "contact_erased")

    class RevealReason(models.TextChoices):
        """Why a staff member asked to see residents' contact details (``data["reason_code"]``)."""

        CALL_BACK = "call_back", _("Call the resident back")
        FOLLOW_UP_VISIT = "follow_up_visit", _("Follow-up visit")
        RESIDENT_ASKED = "resident_asked", _("Resident asked to be contacted")
        OTHER = "other", _("Other")

    # Indexed as the leading column of event_issue_created_idx.
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="events", db_index=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # NULL for the system's own events (escalations): event_actor_idx holds only the set ones.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="issue_events",
        db_index=False,
    )
    is_public = models.BooleanField(default=False)
    message = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # An issue's timeline, in order.
            models.Index(fields=["issue", "created_at"], name="event_issue_created_idx"),
            # Latest public note per issue (status page, Open311 status_notes).
            models.Index(fields=["issue", "-created_at"], name="event_issue_public_idx", condition=Q(is_public=True)),
            # Open311 service request updates: the public entries of a period, in order.
            models.Index(fields=["created_at", "id"], name="event_public_created_idx", condition=Q(is_public=True)),
            # A user's events (and SET_NULL when a user is deleted).
            models.Index(fields=["actor"], name="event_actor_idx", condition=Q(actor__isnull=False)),
            # The audit log, newest first, and one user's own entries.
            models.Index(
                fields=["-created_at", "-id"],
                name="event_audit_idx",
                condition=Q(kind__in=["contact_viewed", "moderated", "contact_erased"]),
            ),
            models.Index(
                fields=["actor", "-created_at", "-id"],
                name="event_audit_actor_idx",
                condition=Q(kind__in=["contact_viewed", "moderated", "contact_erased"]),
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} on {self.issue_id}"


class Escalation(QuickChoiceDisplay, models.Model):
    """One escalation level reached by one issue. The database refuses a second."""

    # Indexed as the leading column of escalation_issue_level_unique.
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="escalations", db_index=False)
    level = models.PositiveSmallIntegerField()
    action = models.CharField(max_length=32, choices=EscalationRule.Action.choices)
    rule = models.ForeignKey(EscalationRule, null=True, blank=True, on_delete=models.SET_NULL)
    hours_overdue = models.PositiveIntegerField(default=0)
    # The climb the issue is on: a reopened issue climbs again from level 0, so
    # the uniqueness is per (issue, cycle, level).
    cycle = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    # Set only once decided: escalation_decided_by_idx holds only the set ones.
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="decisions",
        db_index=False,
    )
    decision = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["issue", "cycle", "level"], name="escalation_issue_level_unique"),
            models.CheckConstraint(condition=Q(level__gte=1), name="escalation_level_min1"),
        ]
        indexes = [
            # Dashboard: escalations still waiting for a decision.
            models.Index(fields=["created_at"], name="escalation_undecided_idx", condition=Q(decided_at__isnull=True)),
            # The API's list, newest first, a page at a time.
            models.Index(fields=["created_at", "id"], name="escalation_created_idx"),
            # A supervisor's decisions (and SET_NULL when a user is deleted).
            models.Index(
                fields=["decided_by"], name="escalation_decided_by_idx", condition=Q(decided_by__isnull=False)
            ),
        ]

    def __str__(self):
        return f"{self.issue_id} L{self.level}"


class Feedback(TrackedFields, models.Model):
    """A resident's answer on a resolved issue: is it fixed, how satisfied (1–5)."""

    TRACKED_FIELDS = ("neighborhood_id", "category_id", "issue_id", "created_at", "fixed", "satisfaction")

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="feedback")
    # The issue's place and category, copied when the answer is saved: a period's answers are read
    # by district, neighborhood or category from one index (feedback_period_idx; the summary tables'
    # recomputation, insights.rollups) instead of looking up every answer's issue. An issue's place
    # and category never change once it is filed (no service changes them; the admin shows them
    # read-only), so the copy stays true.
    neighborhood = models.ForeignKey(Neighborhood, on_delete=models.PROTECT, related_name="+", db_index=False)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+", db_index=False)
    fixed = models.BooleanField()
    satisfaction = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(satisfaction__gte=1, satisfaction__lte=5), name="feedback_satisfaction_1_5"
            ),
        ]
        # Dashboard satisfaction and "not fixed" figures: a period's answers, filtered by place or
        # category and aggregated from the index alone (key columns: SQLite has no INCLUDE).
        indexes = [
            models.Index(
                fields=["created_at", "neighborhood", "category", "satisfaction", "fixed"],
                name="feedback_period_idx",
            )
        ]

    def __str__(self):
        return f"Feedback on {self.issue_id}: fixed={self.fixed}, {self.satisfaction}/5"

    def save(self, *args, **kwargs):
        # The copy of the issue's place is taken from the issue, never typed in separately.
        if self.issue_id is not None and (self.neighborhood_id is None or self.category_id is None):
            self.neighborhood_id, self.category_id = self.issue.neighborhood_id, self.issue.category_id
        super().save(*args, **kwargs)


class ProblemEvent(models.Model):
    """A Problem's timeline: stage moves, issues added or removed, closing."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("Opened")
        STAGE = "stage", _("Stage changed")
        ISSUE_ADDED = "issue_added", _("Issue added")
        ISSUE_REMOVED = "issue_removed", _("Issue removed")
        NOTE = "note", _("Note")
        UPDATED = "updated", _("Updated")
        CLOSED = "closed", _("Closed")

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    message = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["problem", "created_at"], name="problemevent_problem_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} on problem {self.problem_id}"


class OutboxMessage(models.Model):
    """A notification to deliver, written in the same transaction as its cause.

    The worker drains pending rows with retries and back-off; a broker outage
    only delays delivery. ``dedupe_key`` makes "notify once" a database fact.
    """

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        IN_APP = "in_app", _("In-app")

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    channel = models.CharField(max_length=10, choices=Channel.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="outbox_messages"
    )
    recipient_email = models.EmailField(blank=True)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    # Emails to residents: the same message as HTML, and the link that stops them (RFC 8058).
    html_body = models.TextField(blank=True)
    unsubscribe_url = models.CharField(max_length=300, blank=True)
    url = models.CharField(max_length=200, blank=True)
    issue = models.ForeignKey(Issue, null=True, blank=True, on_delete=models.CASCADE, related_name="outbox_messages")
    # Unique through Meta.constraints (one index; ``unique=True`` would add a LIKE twin on PostgreSQL).
    dedupe_key = models.CharField(max_length=160, null=True, blank=True)
    # How many things the message tells about: an escalation digest lists several issues.
    items = models.PositiveIntegerField(default=1)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at"]
        indexes = [
            # The drain: pending messages whose next attempt is due.
            models.Index(fields=["next_attempt_at"], name="outbox_pending_idx", condition=Q(state="pending")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["dedupe_key"], name="outbox_dedupe_key_unique"),
            models.CheckConstraint(
                condition=Q(recipient__isnull=False) | ~Q(recipient_email=""), name="outbox_has_recipient"
            ),
        ]

    def __str__(self):
        return f"{self.channel}: {self.subject}"


class Follower(models.Model):
    """Someone who gets an issue's updates by email, in their language: its reporter, when they
    left an address and agreed to be contacted (confirmed at once), or anyone who followed it from
    its status page (confirmed when they open the link emailed to them). The address is a
    resident's contact detail: staff and public pages never show it, logs never name it, and it
    is erased with the issue's other contact details (``cases.services.retention``)."""

    class Source(models.TextChoices):
        REPORTER = "reporter", _("Reporter")
        FOLLOWER = "follower", _("Follower")

    # Indexed as the leading column of follower_issue_email_key.
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="followers", db_index=False)
    email = models.EmailField()
    language = models.CharField(max_length=8, default="en")
    source = models.CharField(max_length=10, choices=Source.choices)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issue", "email"], name="follower_issue_email_key")]

    def __str__(self):
        return f"Follower {self.pk} of issue {self.issue_id}"

    @property
    def active(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None


class AreaSubscription(models.Model):
    """Someone who gets a daily email of the new public reports and resolutions in one or more
    neighborhoods (``cases.notifications.alerts``): confirmed by the link emailed to them (double
    opt-in), stopped by the link in every digest. The address is a resident's contact detail:
    never shown, never logged."""

    email = models.EmailField(unique=True)
    language = models.CharField(max_length=8, default="en")
    neighborhoods = models.ManyToManyField(Neighborhood, related_name="+")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    # The end of the window the last digest covered: the next covers what came after.
    digested_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    def __str__(self):
        return f"AreaSubscription {self.pk}"

    @property
    def active(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None


class FixedCheck(models.Model):
    """ "Is it fixed?", asked by email of a reporter who follows the issue, some days after it was
    resolved (``Category.fixed_check_days``; ``cases.notifications.residents``), and the answer
    given with one of the email's two links (each works once: the first answer stays)."""

    # Indexed as the leading column of fixed_check_key.
    follower = models.ForeignKey(Follower, on_delete=models.CASCADE, related_name="fixed_checks", db_index=False)
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="fixed_checks")
    # The resolution asked about: reopened and resolved again, the reporter is asked again.
    resolved_at = models.DateTimeField()
    asked_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    fixed = models.BooleanField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["follower", "issue", "resolved_at"], name="fixed_check_key"),
        ]

    def __str__(self):
        return f"FixedCheck {self.pk} of issue {self.issue_id}"


class Notification(models.Model):
    """An in-app notification shown at /notifications/."""

    # Indexed as the leading column of notification_user_created_idx.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", db_index=False
    )
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=200, blank=True)
    issue = models.ForeignKey(Issue, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    outbox = models.OneToOneField(OutboxMessage, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # Unread count in the navigation bar.
            models.Index(
                fields=["user", "-created_at"], name="notification_unread_idx", condition=Q(read_at__isnull=True)
            ),
            # A user's notifications, newest first, a page at a time.
            models.Index(fields=["user", "-created_at"], name="notification_user_created_idx"),
        ]

    def __str__(self):
        return self.subject


class ApiClient(models.Model):
    """An Open311 client application and its api_key; revoked keys stop working."""

    name = models.CharField(max_length=120, unique=True)
    key = models.CharField(max_length=64, unique=True, default=new_api_key)
    contact_email = models.EmailField(blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "Open311 API client"

    def __str__(self):
        return self.name


class SweepRun(models.Model):
    """One run of the scheduled escalation sweep (also proves the worker and beat run).

    The counts are what the run has *committed*: each batch of the sweep adds its own to
    this row in the batch's transaction, so a worker killed mid-run leaves a row that says
    exactly what it did. ``finished_at`` is set when the whole run is done.
    """

    class State(models.TextChoices):
        FINISHED = "finished", _("finished")
        RUNNING = "running", _("running")
        INTERRUPTED = "interrupted", _("interrupted")

    started_at = models.DateTimeField()
    # When the run's last batch (or hot-spot chunk) committed; empty until the first one has.
    progress_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    batches = models.PositiveIntegerField(default=0)
    escalations = models.PositiveIntegerField(default=0)
    issues_escalated = models.PositiveIntegerField(default=0)
    notifications = models.PositiveIntegerField(default=0)
    hotspots = models.PositiveIntegerField(default=0)
    problems_opened = models.PositiveIntegerField(default=0)
    dry_run = models.BooleanField(default=False)

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["-started_at"], name="sweeprun_started_idx"),
            # /healthz: the latest interrupted run among the few unfinished ones, not a scan of every run.
            models.Index(fields=["-started_at"], name="sweeprun_unfinished_idx", condition=Q(finished_at__isnull=True)),
        ]

    def __str__(self):
        return f"Sweep at {self.started_at:%Y-%m-%d %H:%M:%S}"

    # One definition of a run's state, in Python (``state``) and in SQL (``state_q``), used by
    # /healthz and the admin alike: finished once ``finished_at`` is set; otherwise running
    # while it keeps committing, interrupted once nothing has committed for SWEEP_STALE_SECONDS
    # (since its last batch, or since it started if none has). Computed, never stamped: the
    # verdict must hold when no later sweep comes to stamp it (the worker or beat is gone).

    @staticmethod
    def stale_before(now=None):
        """Unfinished runs with no commit since this moment are interrupted."""
        return (now or timezone.now()) - timedelta(seconds=settings.SWEEP_STALE_SECONDS)

    @classmethod
    def state_q(cls, state: str, *, now=None) -> Q:
        if state == cls.State.FINISHED:
            return Q(finished_at__isnull=False)
        cutoff = cls.stale_before(now)
        stale = Q(progress_at__lt=cutoff) | Q(progress_at__isnull=True, started_at__lt=cutoff)
        if state == cls.State.INTERRUPTED:
            return Q(finished_at__isnull=True) & stale
        if state == cls.State.RUNNING:
            return Q(finished_at__isnull=True) & ~stale
        raise ValueError(f"unknown sweep run state: {state!r}")

    def state_at(self, now=None) -> str:
        if self.finished_at is not None:
            return self.State.FINISHED
        last = self.progress_at or self.started_at
        return self.State.INTERRUPTED if last < self.stale_before(now) else self.State.RUNNING

    @property
    def state(self) -> str:
        return self.state_at()


class ModerationItem(models.Model):
    """A piece of public text (or a photo) a moderator should look at: the supervisors' queue."""

    class Reason(models.TextChoices):
        MASKED = "masked", _("Personal details were masked")
        FLAGGED = "flagged", _("May hold personal details")
        PHOTO = "photo", _("Photo waiting for approval")

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="moderation_items")
    # Set when the text or photo is a report's; empty for the issue's description.
    report = models.ForeignKey(
        Report, null=True, blank=True, on_delete=models.CASCADE, related_name="moderation_items", db_index=False
    )
    reason = models.CharField(max_length=10, choices=Reason.choices)
    # What the masker found, by kind ({"email": 1, "phone": 2, "name": 1}): never the values.
    findings = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # The queue: unresolved items, oldest first.
            models.Index(
                fields=["created_at", "id"], name="moderation_open_idx", condition=Q(resolved_at__isnull=True)
            ),
            # A report's items (resolved together when the report is moderated; CASCADE).
            models.Index(fields=["report"], name="moderation_report_idx", condition=Q(report__isnull=False)),
        ]

    def __str__(self):
        return f"{self.get_reason_display()} on {self.issue_id}"


class ResidentMessage(models.Model):
    """Anonymous two-way messages between a report's holder and staff.

    The resident is known only by the report's private message key: no account, no contact
    detail, no address or device fingerprint is stored. Replies are private to the key holder;
    they never appear on the public timeline.
    """

    class Direction(models.TextChoices):
        FROM_RESIDENT = "in", _("From the resident")
        TO_RESIDENT = "out", _("To the resident")

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="messages", db_index=False)
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="messages", db_index=False)
    direction = models.CharField(max_length=3, choices=Direction.choices)
    body = models.TextField(max_length=2000)
    language = models.CharField(max_length=8, default="en")
    # The staff member who replied; empty for the resident's messages.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    created_at = models.DateTimeField()
    # When staff (resident's messages) or the resident (replies) first read it.
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # One report's thread, in order (the status page's messages).
            models.Index(fields=["report", "created_at"], name="message_report_idx"),
            # An issue's threads (the issue page) and its unread messages from residents.
            models.Index(fields=["issue", "created_at"], name="message_issue_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(direction="in", author__isnull=True) | Q(direction="out"),
                name="message_from_resident_has_no_author",
            ),
        ]

    def __str__(self):
        return f"Message {self.pk} on {self.issue_id}"


class ChangedDay(models.Model):
    """A day of one neighborhood whose figures changed: the durable change log of the rollups.

    Whatever changes a column the figures read (an issue's dates, status or outcome, feedback, an
    outreach activity) adds a row here in its own transaction (``cases.figure_changes``); the
    worker folds the days into the summary tables and deletes the rows in one transaction
    (``insights.rollups.rollups_apply``). Appending is all a write pays: no lock on a shared
    summary row, so two officers closing issues in one neighborhood never wait for each other.
    """

    day = models.DateField()
    neighborhood_id = models.IntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.day} in neighborhood {self.neighborhood_id}"


class AssignmentRule(models.Model):
    """Who gets a new issue: by category and place, to one officer or a pool taken in turn or by
    least open work (``cases.services.assignment``). Applied when an issue is filed, reopened
    unassigned or moved to another category; the most specific active rule wins (a category and a
    neighborhood over a category and a district, over a category, over a place alone, over none),
    then the lowest ``position``."""

    class Mode(models.TextChoices):
        OFFICER = "officer", _("One officer")
        TURNS = "turns", _("A pool, in turn")
        LEAST_OPEN = "least_open", _("A pool, whoever has the least open work")

    name = models.CharField(_("name"), max_length=120)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.CASCADE, related_name="+", help_text=_("Empty: any category.")
    )
    neighborhood = models.ForeignKey(Neighborhood, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    district = models.CharField(
        _("district"), max_length=80, blank=True, help_text=_("A whole district, instead of one neighborhood.")
    )
    mode = models.CharField(_("assign to"), max_length=12, choices=Mode.choices, default=Mode.OFFICER)
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    pool = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("pool"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)
    turn = models.PositiveIntegerField(default=0, editable=False)  # the pool's next member, taken in turn
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(neighborhood__isnull=True) | Q(district=""), name="assignmentrule_one_place"
            ),
            models.CheckConstraint(
                condition=~Q(mode="officer") | Q(officer__isnull=False), name="assignmentrule_officer_named"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def specificity(self) -> int:
        """Higher wins: category and neighborhood 5, category and district 4, category 3,
        neighborhood 2, district 1, nothing 0."""
        place = 2 if self.neighborhood_id else 1 if self.district else 0
        return 3 + place if self.category_id else place


# The statuses an officer's action moves an issue into without public words of the officer's own,
# so the ones an automatic response template can answer: "new" is only ever the start (or a
# reopening), "duplicate" has its own merge note, and resolving or putting on hold carries the
# officer's resolution note or hold reason, which would always win (such a template never posts).
RESPONSE_AUTO_STATUSES = (
    IssueStatus.ACKNOWLEDGED,
    IssueStatus.IN_PROGRESS,
    IssueStatus.CLOSED,
    IssueStatus.REFERRED,
)


class ResponseTemplate(models.Model):
    """A public note officers reuse, per category (or any) and issue status, in English and Spanish.

    An officer picks one on the issue page (rendered in the language the issue was reported in);
    an ``auto`` one is posted as a public note when an issue enters its status
    (``cases.services.response_templates``). Placeholders: ``cases.response_templates``.
    """

    AUTO_STATUSES = RESPONSE_AUTO_STATUSES

    name = models.CharField(_("name"), max_length=120, help_text=_("What officers see in the list."))
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="response_templates",
        db_index=False,  # the leading column of responsetemplate_lookup_idx
        help_text=_("Empty: any category. A category's own template wins over an any-category one."),
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=IssueStatus.choices,
        help_text=_("Offered on issues in this status (and on the form that moves an issue into it)."),
    )
    text_en = models.TextField(
        _("text in English"),
        max_length=2000,
        help_text=_("Placeholders: {category}, {neighborhood}, {due} (the due date)."),
    )
    text_es = models.TextField(_("text in Spanish"), max_length=2000)
    auto = models.BooleanField(
        _("automatic"),
        default=False,
        help_text=_(
            "Posted as a public note when an issue enters this status, unless the officer writes "
            "public text in the same action (a resolution note, a hold reason): the officer's text wins."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("response template")
        verbose_name_plural = _("response templates")
        indexes = [
            # The issue page's list and the status change's automatic one: active, by category and status.
            models.Index(
                fields=["category", "status"], name="responsetemplate_lookup_idx", condition=Q(is_active=True)
            ),
        ]
        constraints = [
            # One automatic answer per (category, status), and one for any category: two would post twice.
            models.UniqueConstraint(
                fields=["category", "status"],
                condition=Q(auto=True, is_active=True, category__isnull=False),
                name="responsetemplate_one_auto_per_category",
                violation_error_message=_(
                    "Another active automatic template already answers this category and status."
                ),
            ),
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(auto=True, is_active=True, category__isnull=True),
                name="responsetemplate_one_auto_any_category",
                violation_error_message=_(
                    "Another active automatic template already answers this status for any category."
                ),
            ),
            models.CheckConstraint(
                condition=Q(auto=False) | Q(status__in=[str(status) for status in RESPONSE_AUTO_STATUSES]),
                name="responsetemplate_auto_status",
                violation_error_message=_("No action moves an issue into this status: it cannot be automatic."),
            ),
            models.CheckConstraint(condition=~Q(text_en="") & ~Q(text_es=""), name="responsetemplate_both_languages"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        errors = {}
        for field in ("text_en", "text_es"):
            problems = placeholder_errors(getattr(self, field) or "")
            if problems:
                errors[field] = problems
        if errors:
            raise ValidationError(errors)
