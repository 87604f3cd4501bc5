"""Writes around the escalation ladder (the sweep itself is ``cases.escalation.sweep``)."""

from __future__ import annotations

from django.db import transaction

from cases.models import Category, EscalationRule

__all__ = ["DEFAULT_ESCALATION_LADDER", "escalation_ladder_set", "escalation_ladder_ensure_default"]

Action = EscalationRule.Action

# (level, hours past due_at, action) — what a department starts from; the
# administrator adjusts it per category in the admin. Hours only.
DEFAULT_ESCALATION_LADDER: tuple[tuple[int, int, str], ...] = (
    (1, 0, Action.NOTIFY_SUPERVISOR),
    (2, 24, Action.RAISE_PRIORITY),
    (3, 72, Action.NEEDS_DECISION),
    (4, 168, Action.NOTIFY_COMMANDER),
)


@transaction.atomic
def escalation_ladder_set(*, category: Category, ladder) -> list[EscalationRule]:
    """Replace a category's ladder with ``ladder`` = [(level, hours_overdue, action), …].

    Levels must start at 1 and hours must not go down as levels go up, so the
    ladder reads the way it fires.
    """
    from django.core.exceptions import ValidationError

    rows = sorted((int(level), int(hours), str(action)) for level, hours, action in ladder)
    previous_hours = 0
    for level, hours, action in rows:
        if level < 1:
            raise ValidationError({"level": "Levels start at 1."})
        if hours < previous_hours:
            raise ValidationError({"hours_overdue": "A higher level cannot fire sooner than a lower one."})
        if action not in Action.values:
            raise ValidationError({"action": f"Unknown action {action!r}."})
        previous_hours = hours
    EscalationRule.objects.filter(category=category).delete()
    return EscalationRule.objects.bulk_create(
        EscalationRule(category=category, level=level, hours_overdue=hours, action=action)
        for level, hours, action in rows
    )


@transaction.atomic
def escalation_ladder_ensure_default(*, category: Category) -> list[EscalationRule]:
    """Give a category the default ladder unless it has one already (idempotent; seed_demo)."""
    existing = list(EscalationRule.objects.filter(category=category).order_by("level"))
    if existing:
        return existing
    return escalation_ladder_set(category=category, ladder=DEFAULT_ESCALATION_LADDER)
