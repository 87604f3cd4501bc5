"""The community trust pulse: a short anonymous survey at /pulse/ (and /es/pulse/).

21st Century Policing, recommendation 1.7: measure trust as you measure crime. A resident picks
their neighborhood, rates three to five statements (``PulseStatement``, edited in the admin) from
"strongly disagree" to "strongly agree", and may name the number one problem there. Nothing that
identifies a person is kept: no account, no contact, no address, no time finer than the quarter,
and the row's key is random. One answer per device per quarter: a signed cookie naming the quarter
answered (a resident who clears it can answer again; the per-address rate limit, counted under a
keyed hash that is never stored, keeps that to a few). Results: ``insights.figures.pulse``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time

from django import forms
from django.conf import settings
from django.core import signing
from django.db import transaction
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from cases.selectors.public import public_categories
from cases.web.public.views import too_many
from core.ratelimit import rate_limit_reserve
from insights.figures.pulse import quarter_after, quarter_of
from insights.models import PulseAnswer, PulseResponse, PulseStatement
from partners.models import Neighborhood

COOKIE = "cg_pulse"
COOKIE_SALT = "insights.pulse.answered"
# Answers from one address (hashed, never stored): a household, a library's computers.
RATE = "10/d"
HONEYPOT_FIELD = "website"
SCALE = [
    (1, gettext_lazy("Strongly disagree")),
    (2, gettext_lazy("Disagree")),
    (3, gettext_lazy("Neither agree nor disagree")),
    (4, gettext_lazy("Agree")),
    (5, gettext_lazy("Strongly agree")),
]


# The first statements (21st Century Policing rec. 1.7), as ``insights`` migration 0009 adds them.
DEFAULT_STATEMENTS = [
    (
        "Police in my neighborhood treat people with respect.",
        "La policía de mi barrio trata a las personas con respeto.",
    ),
    (
        "I would report a problem in my neighborhood to the police.",
        "Yo reportaría a la policía un problema de mi barrio.",
    ),
    ("I feel safe in my neighborhood.", "Me siento seguro o segura en mi barrio."),
    (
        "Police and residents work together to solve problems here.",
        "La policía y los vecinos trabajan juntos para resolver los problemas aquí.",
    ),
]


def pulse_statements_default() -> None:
    """The first statements, when there are none (a database emptied since its migrations ran)."""
    if not PulseStatement.objects.exists():
        PulseStatement.objects.bulk_create(
            PulseStatement(text_en=en, text_es=es, position=10 * (i + 1))
            for i, (en, es) in enumerate(DEFAULT_STATEMENTS)
        )


def active_statements() -> list[PulseStatement]:
    return list(PulseStatement.objects.filter(active=True).order_by("position", "id"))


def pulse_score(values) -> float:
    """A resident's score, 0–100: the mean of their answers, 1 giving 0 and 5 giving 100."""
    values = list(values)
    return sum((value - 1) * 25 for value in values) / len(values)


@transaction.atomic
def pulse_record(*, neighborhood, language: str, answers: dict, top_problem=None, today: date) -> PulseResponse:
    """Keep one resident's answers ({statement: value 1–5}). Nothing else about them is kept."""
    if not answers or any(value not in range(1, 6) for value in answers.values()):
        raise ValueError("every answer is a value from 1 to 5")
    response = PulseResponse.objects.create(
        id=uuid.uuid4(),
        quarter=quarter_of(today),
        neighborhood=neighborhood,
        language="es" if (language or "").startswith("es") else "en",
        score=pulse_score(answers.values()),
        top_problem=top_problem,
    )
    PulseAnswer.objects.bulk_create(
        PulseAnswer(response=response, statement=statement, value=value) for statement, value in answers.items()
    )
    return response


def answered_in(request, quarter: date) -> bool:
    """Whether this browser has answered in ``quarter`` (its signed cookie says so)."""
    try:
        value = signing.Signer(salt=COOKIE_SALT).unsign(request.COOKIES.get(COOKIE, ""))
    except signing.BadSignature:
        return False
    return value == quarter.isoformat()


def answered_mark(response, quarter: date) -> None:
    """The cookie that remembers the answer until the quarter ends: it holds the quarter, no more."""
    expires = timezone.make_aware(datetime.combine(quarter_after(quarter), time.min))
    response.set_cookie(
        COOKIE,
        signing.Signer(salt=COOKIE_SALT).sign(quarter.isoformat()),
        expires=expires,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


class PulseForm(forms.Form):
    neighborhood = forms.ModelChoiceField(
        queryset=Neighborhood.objects.only("id", "name", "slug").order_by("name"),
        label=gettext_lazy("Your neighborhood"),
        empty_label=gettext_lazy("Choose a neighborhood"),
        to_field_name="slug",
        error_messages={
            "required": gettext_lazy("Choose your neighborhood."),
            "invalid_choice": gettext_lazy("Choose one of the neighborhoods listed."),
        },
    )

    def __init__(self, *args, statements, categories, language, **kwargs):
        super().__init__(*args, **kwargs)
        self.statements = statements
        for statement in statements:
            self.fields[f"s{statement.pk}"] = forms.TypedChoiceField(
                label=statement.text(language),
                choices=SCALE,
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={
                    "required": _("Choose an answer for this statement."),
                    "invalid_choice": _("Choose one of the five answers."),
                },
            )
        self.categories = {str(c.pk): c for c in categories}
        self.fields["top_problem"] = forms.ChoiceField(
            label=_("The number one problem in your neighborhood (optional)"),
            required=False,
            choices=[("", _("No answer"))] + [(pk, c.name) for pk, c in self.categories.items()],
            error_messages={"invalid_choice": _("Choose one of the problems listed, or no answer.")},
        )

    def full_clean(self):
        super().full_clean()
        for name in ("neighborhood", "top_problem"):
            if self._errors and self._errors.get(name):
                self.fields[name].widget.attrs.update({"aria-invalid": "true", "aria-describedby": f"{name}-error"})

    def statement_fields(self):
        return [self[f"s{statement.pk}"] for statement in self.statements]

    def answers(self) -> dict:
        return {statement: self.cleaned_data[f"s{statement.pk}"] for statement in self.statements}

    def top_problem(self):
        return self.categories.get(self.cleaned_data.get("top_problem") or "")

    def error_summary(self):
        """[(the id to jump to, message)]: a statement's first answer, or the field."""
        statement_names = {f"s{statement.pk}" for statement in self.statements}
        return [
            (f"id_{name}_0" if name in statement_names else f"id_{name}", str(message))
            for name in self.fields
            for message in self.errors.get(name, [])
        ]


@never_cache
@require_http_methods(["GET", "POST"])
def pulse(request):
    """The survey; after an answer (or when this browser answered this quarter) a thank-you."""
    language = get_language() or "en"
    quarter = quarter_of(timezone.localdate())
    context = {"quarter": quarter, "honeypot_field": HONEYPOT_FIELD}
    if answered_in(request, quarter):
        return render(request, "public/pulse.html", {**context, "done": True, "before": True})
    statements = active_statements()
    initial = {"neighborhood": request.GET.get("neighborhood", "")[:100]}
    form = PulseForm(
        request.POST if request.method == "POST" else None,
        statements=statements,
        categories=public_categories(),
        language=language,
        initial=initial,
    )
    context.update(form=form, scale=SCALE)
    if request.method != "POST":
        return render(request, "public/pulse.html", context)
    if request.POST.get(HONEYPOT_FIELD):
        context["form_error"] = _("Your answer could not be sent. Please try again.")
        return render(request, "public/pulse.html", context, status=400)
    reservation = rate_limit_reserve(request, scope="pulse", rate=RATE)
    if not reservation:
        context["form_error"] = _("Many answers have come from this connection today. Please try again tomorrow.")
        return too_many(render(request, "public/pulse.html", context))
    if not statements or not form.is_valid():
        reservation.release()
        return render(request, "public/pulse.html", context, status=400)
    pulse_record(
        neighborhood=form.cleaned_data["neighborhood"],
        language=language,
        answers=form.answers(),
        top_problem=form.top_problem(),
        today=timezone.localdate(),
    )
    response = render(request, "public/pulse.html", {**context, "done": True})
    answered_mark(response, quarter)
    return response
