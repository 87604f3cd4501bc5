"""Response templates an issue may use: the issue page's lists and a status change's automatic one."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import F, Q

from cases.models import Issue, ResponseTemplate

__all__ = ["response_template_auto_for", "response_templates_for"]


def _for_category(issue: Issue):
    # Served by responsetemplate_lookup_idx (active, by category and status).
    return ResponseTemplate.objects.filter(Q(category_id=issue.category_id) | Q(category__isnull=True), is_active=True)


def response_templates_for(issue: Issue, statuses: Iterable[str]) -> list[ResponseTemplate]:
    """The active templates for the issue's category (or any category) in ``statuses``, in one
    query: the category's own first, then by name."""
    return list(
        _for_category(issue)
        .filter(status__in=list(statuses))
        .order_by(F("category_id").asc(nulls_last=True), "name", "id")
    )


def response_template_auto_for(issue: Issue, status: str) -> ResponseTemplate | None:
    """The active automatic template for an issue entering ``status``: the category's own wins
    over an any-category one (the constraints allow at most one of each)."""
    return (
        _for_category(issue)
        .filter(status=status, auto=True)
        .order_by(F("category_id").asc(nulls_last=True), "id")
        .first()
    )
