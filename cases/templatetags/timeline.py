"""The staff timeline's words in the reader's language, where an event stored them in the
actor's: the approach chosen (its code is kept too) and the reason a contact was viewed; and what
an approach means, for the issue's facts; a Problem's stages, which its timeline keeps as codes."""

from django import template

from cases.models import APPROACH_MEANINGS, Approach, Event, Problem
from cases.selectors.audit import audit_reason

register = template.Library()


@register.filter
def approach_label(code):
    """An approach's name in the active language ("deter" → "Deter" / "Disuadir")."""
    return str(Approach(code).label) if code in Approach.values else code


@register.filter
def stage_label(code):
    """A SARA stage's name in the active language, as a Problem's timeline stored its code."""
    return str(Problem.Stage(code).label) if code in Problem.Stage.values else code


@register.filter
def approach_meaning(code) -> str:
    """What an approach means, in a sentence, in the active language ("" for none or an unknown code)."""
    return str(APPROACH_MEANINGS[code]) if code in Approach.values else ""


@register.filter
def event_message(event) -> str:
    """What the timeline shows as the event's message."""
    data = event.data or {}
    if event.kind == Event.Kind.APPROACH and data.get("to") in Approach.values:
        return approach_label(data["to"])
    if event.kind == Event.Kind.CONTACT_VIEWED:
        if getattr(event, "reason_code", None) is None:
            event.reason_code = data.get("reason_code")
        return audit_reason(event)
    return data.get("original_message") or event.message
