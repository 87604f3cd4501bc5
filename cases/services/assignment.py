"""Assignment rules (``AssignmentRule``): who gets an issue nobody has assigned.

Filing reads the active rules from this process's copy (``core.snapshots``: no statement per
report); the most specific rule for the issue's category and place wins, then the lowest
position. An officer named by the rule takes it; a pool takes it in turn (one ``UPDATE`` moves
the rule's turn, its row lock orders two filings at once) or goes to whoever in the pool has the
least open work (one statement counts their open issues). Members no longer active are passed
over. The assignment is recorded in the timeline (internal, naming the rule) and the officer is
told, in their language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Count, F
from django.utils import translation
from django.utils.translation import gettext as _

from cases.models import AssignmentRule, Event, Issue, OutboxMessage
from core.snapshots import Snapshot
from partners.models import StaffProfile


@dataclass(frozen=True)
class Rule:
    pk: int
    name: str
    category_id: int | None
    neighborhood_id: int | None
    district: str
    mode: str
    officer_id: int | None
    pool: tuple[int, ...]
    position: int
    specificity: int


def _rules_build() -> list[Rule]:
    rules = AssignmentRule.objects.filter(active=True).prefetch_related("pool").order_by("position", "id")
    return [
        Rule(
            pk=rule.pk,
            name=rule.name,
            category_id=rule.category_id,
            neighborhood_id=rule.neighborhood_id,
            district=rule.district,
            mode=rule.mode,
            officer_id=rule.officer_id,
            pool=tuple(sorted(user.pk for user in rule.pool.all())),
            position=rule.position,
            specificity=rule.specificity,
        )
        for rule in rules
    ]


_RULES = Snapshot(AssignmentRule, _rules_build)


def rule_for(*, category_id: int, neighborhood) -> Rule | None:
    """The rule that decides for an issue of this category in this neighborhood, or None."""
    fitting = [
        rule
        for rule in _RULES.get()
        if rule.category_id in (None, category_id)
        and rule.neighborhood_id in (None, neighborhood.pk)
        and rule.district in ("", neighborhood.district)
    ]
    if not fitting:
        return None
    return max(fitting, key=lambda rule: (rule.specificity, -rule.position, -rule.pk))


def _candidates(rule: Rule) -> list[int]:
    ids = [rule.officer_id] if rule.mode == AssignmentRule.Mode.OFFICER else list(rule.pool)
    active = set(get_user_model().objects.filter(pk__in=ids, is_active=True).values_list("pk", flat=True))
    return [pk for pk in ids if pk in active]


def officer_by_rule(rule: Rule):
    """The officer the rule gives the issue to (a user), or None when nobody in it can take it."""
    candidates = _candidates(rule)
    if not candidates:
        return None
    if rule.mode == AssignmentRule.Mode.TURNS:
        AssignmentRule.objects.filter(pk=rule.pk).update(turn=F("turn") + 1)
        turn = AssignmentRule.objects.filter(pk=rule.pk).values_list("turn", flat=True).get()
        chosen = candidates[(turn - 1) % len(candidates)]
    elif rule.mode == AssignmentRule.Mode.LEAST_OPEN:
        open_work = dict(
            Issue.objects.filter(assignee_id__in=candidates, status__in=Issue.OPEN_STATUSES)
            .values("assignee_id")
            .annotate(n=Count("id"))
            .values_list("assignee_id", "n")
            .order_by()
        )
        chosen = min(candidates, key=lambda pk: (open_work.get(pk, 0), candidates.index(pk)))
    else:
        chosen = candidates[0]
    return get_user_model().objects.get(pk=chosen)


def assignment_notice(*, issue: Issue, officer, now: datetime) -> OutboxMessage:
    """The in-app notice to the officer given an issue, in their language (unsaved)."""
    language = StaffProfile.objects.filter(user=officer).values_list("language", flat=True).first() or "en"
    with translation.override(language):
        subject = _("Issue %(code)s assigned to you") % {"code": issue.tracking_code}
    return OutboxMessage(
        channel=OutboxMessage.Channel.IN_APP,
        recipient=officer,
        issue=issue,
        subject=subject,
        body=issue.description[:300],
        url=issue.get_absolute_url(),
        next_attempt_at=now,
        created_at=now,
    )


def rule_event(*, issue: Issue, rule: Rule, officer, now: datetime) -> Event:
    """The timeline's record of an assignment by rule (unsaved, internal)."""
    return Event(
        issue=issue,
        kind=Event.Kind.ASSIGNED,
        actor=None,
        is_public=False,
        message=officer.get_full_name() or officer.get_username(),
        data={"from": None, "to": officer.pk, "rule": rule.pk, "rule_name": rule.name},
        created_at=now,
    )
