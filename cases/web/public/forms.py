"""Forms of the public pages: the resident's report and the "is it really fixed?" feedback."""

from __future__ import annotations

import logging
import math
import re

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from cases.models import Category
from cases.photos import photo_clean, photo_unstash
from cases.selectors.public import active_category
from core.forms import CleansFieldsDirectly, copies_fields_quickly, fields_copied
from partners.models import Neighborhood
from partners.selectors import address_point_for, neighborhood_for_point, neighborhood_named_in

logger = logging.getLogger(__name__)

DESCRIPTION_MAX = 5000
COMMENT_MAX = 2000
_PHONE = re.compile(r"^[0-9+()\-.\s/]+$")
# The honeypot: a field people never see (hidden by CSS, out of the tab order) that bots fill in.
HONEYPOT_FIELD = "website"


class _AccessibleFormMixin:
    """Tie each field to its help text and error message so screen readers announce them."""

    def __init__(self, *args, **kwargs):
        self._describe_class_fields()
        super().__init__(*args, **kwargs)
        if fields_copied(self):
            self.describe_fields(errors={})
        # else this form still reads the class's fields, described alike (core.forms.copies_fields_quickly)

    def full_clean(self):
        super().full_clean()
        if self._errors:  # without errors every field is already described as __init__ left it
            self.describe_fields(errors=self._errors)

    def describe_fields(self, *, errors):
        help_ids = self._help_ids()
        for name, field in self.fields.items():
            if name in help_ids:
                described = help_ids[name]
            else:  # a field added to this instance only
                described = f"{name}-help" if name not in self.base_fields and field.help_text else ""
            if errors.get(name):
                described = f"{described} {name}-error" if described else f"{name}-error"
                field.widget.attrs["aria-invalid"] = "true"
            if described:
                field.widget.attrs["aria-describedby"] = described

    @classmethod
    def _describe_class_fields(cls) -> None:
        """The class's own fields with a help text described once, as ``describe_fields`` describes a
        form's copy of them when nothing is wrong: a copy made later is described already."""
        if cls.__dict__.get("_class_fields_described"):
            return
        for name, described in cls._help_ids().items():
            cls.base_fields[name].widget.attrs["aria-describedby"] = described
        cls._class_fields_described = True

    @classmethod
    def _help_ids(cls) -> dict[str, str]:
        """ "<name>-help" for each of the class's fields with a help text, worked out once per class:
        whether a lazily translated help text is empty is the same in every language, and asking
        translates it (twice per field per form otherwise)."""
        cached = cls.__dict__.get("_help_ids_of_class")
        if cached is None:
            cached = {name: f"{name}-help" for name, field in cls.base_fields.items() if field.help_text}
            cls._help_ids_of_class = cached
        return cached

    def error_summary(self):
        """[(anchor id, message)] for the summary at the top of the form, in field order."""
        items = [("", str(message)) for message in self.non_field_errors()]
        for name in self.fields:
            for message in self.errors.get(name, []):
                items.append((self.anchor_for(name), str(message)))
        return items

    def anchor_for(self, name):
        return f"id_{name}"


def _geocode(address: str):
    """The configured geocoder's (lat, lng) for an address, or None. Off unless settings.GEOCODER is set."""
    if not settings.GEOCODER or not address:
        return None
    try:
        result = import_string(settings.GEOCODER)(address)
    except Exception as exc:  # a geocoder outage must never lose a resident's report
        logger.warning("geocoder failed: %s", exc.__class__.__name__)
        return None
    try:
        lat, lng = float(result[0]), float(result[1])
    except (TypeError, ValueError, IndexError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lng) and -90 <= lat <= 90 and -180 <= lng <= 180):
        return None
    return lat, lng


class _ActiveCategoryField(forms.Field):
    """The category chosen, found in this process's copy of the active categories (no query per report).

    A plain field rather than a ModelChoiceField: it has no queryset to clone for every form, and the
    page draws the choices itself (grouped by theme, with hints), not through this field's widget.
    """

    default_error_messages = {
        "invalid_choice": _("Select a valid choice. That choice is not one of the available choices.")
    }

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, Category):
            value = value.pk
        try:
            category = active_category(int(str(value).strip()))
        except (TypeError, ValueError):
            category = None
        if category is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value})
        if category.notice_stops:  # its notice, shown with it, says where to go instead
            where = f"{category.notice} {category.notice_url}".strip()
            raise ValidationError(_("This is not reported here. %(notice)s") % {"notice": where}, code="stopped")
        return category


# Built and cleaned on every POST of the resident's form: its 16 fields are copied only when the form
# needs its own (rendered, or an error to describe), and cleaned without a BoundField each (core.forms).
@copies_fields_quickly
class ReportForm(CleansFieldsDirectly, _AccessibleFormMixin, forms.Form):
    category = _ActiveCategoryField(
        label=_("What kind of problem is it?"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose the kind of problem."),
            "invalid_choice": _("Choose one of the kinds of problem listed."),
        },
    )
    description = forms.CharField(
        label=_("Describe the problem"),
        help_text=_("What is happening, and when? Up to 5,000 characters. Please do not include names of people."),
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": DESCRIPTION_MAX}),
        error_messages={"required": _("Tell us what the problem is.")},
    )
    lat = forms.FloatField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput)
    lng = forms.FloatField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput)
    address = forms.CharField(
        label=_("Street address or nearest corner"),
        required=False,
        max_length=200,
        help_text=_("For example: 12th St and Grand Blvd."),
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    neighborhood = forms.ModelChoiceField(
        queryset=Neighborhood.objects.all(),
        label=_("Neighborhood"),
        required=False,
        empty_label=_("Choose a neighborhood"),
        error_messages={"invalid_choice": _("Choose one of the neighborhoods listed.")},
    )
    photo = forms.FileField(
        label=_("Photo (optional)"),
        required=False,
        help_text=_("JPEG, PNG or WebP, up to 10 MB. We remove the location and camera details from it."),
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    photo_token = forms.CharField(required=False, widget=forms.HiddenInput, max_length=500)
    remove_photo = forms.BooleanField(label=_("Remove the attached photo"), required=False)
    anonymous = forms.BooleanField(
        label=_("Report anonymously"),
        required=False,
        help_text=_("We will not store your name, email or phone, even if you typed them."),
    )
    reporter_name = forms.CharField(
        label=_("Your name"), required=False, max_length=120, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    reporter_email = forms.EmailField(
        label=_("Email"),
        required=False,
        max_length=254,
        help_text=_("We send the tracking code here."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={"invalid": _("Enter an email address like name@example.org.")},
    )
    reporter_phone = forms.CharField(
        label=_("Phone"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    contact_consent = forms.BooleanField(
        label=_("You may contact me about this report"),
        required=False,
        help_text=_("Only officers working on it will see your details. They are never shown publicly."),
    )
    # "" (not asked yet), "new", or the tracking code of the open issue this report joins.
    same_issue = forms.CharField(required=False, max_length=20)
    # When the pin and the neighborhood chosen (or named in the address) disagree, the resident's
    # answer: "" (not asked yet), "pin" (the pin is right) or "neighborhood" (the pin is removed).
    location_choice = forms.ChoiceField(
        choices=[("", ""), ("pin", "pin"), ("neighborhood", "neighborhood")], required=False
    )
    website = forms.CharField(required=False, max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.photo_content = None
        self.point_neighborhood = None
        # (the pin's neighborhood, the other one) while the form asks which is right.
        self.location_conflict = None

    def anchor_for(self, name):
        if name == "lat" or name == "lng":
            return "location"
        if name == "category":
            return "category-choices"
        if name == "same_issue":
            return "same-problem"
        return super().anchor_for(name)

    def clean_description(self):
        # Browsers send line breaks as CRLF but count them as one character.
        text = self.cleaned_data["description"].replace("\r\n", "\n")
        if len(text) > DESCRIPTION_MAX:
            raise ValidationError(
                _(
                    "Your description has %(count)s characters; the limit is %(max)s. "
                    "Please shorten it and send it again."
                ),
                params={"count": f"{len(text):,}", "max": f"{DESCRIPTION_MAX:,}"},
                code="too_long",
            )
        return text

    def clean_reporter_phone(self):
        phone = self.cleaned_data["reporter_phone"]
        if phone and (not _PHONE.match(phone) or sum(ch.isdigit() for ch in phone) < 7):
            raise ValidationError(_("Enter a phone number with at least 7 digits, like 816-555-0123."))
        return phone

    def clean_same_issue(self):
        value = self.cleaned_data["same_issue"].strip()
        return "new" if value.lower() == "new" else value.upper()

    def clean_photo(self):
        upload = self.cleaned_data.get("photo")
        if upload:
            self.photo_content = photo_clean(upload)
        return upload

    def clean(self):
        data = super().clean()
        if not self.photo_content and not data.get("remove_photo"):
            # A photo checked on an earlier round of this form (see photos.photo_stash).
            self.photo_content = photo_unstash(data.get("photo_token", ""))
        self._clean_location(data)
        self._clean_contact(data)
        return data

    def _clean_location(self, data):
        if "lat" in self.errors or "lng" in self.errors:
            return
        lat, lng = data.get("lat"), data.get("lng")
        if (lat is None) != (lng is None):
            self.add_error("lat", _("The point on the map is incomplete. Click the map again."))
            return
        if lat is None:
            # No pin (no JavaScript, or none placed): the city's address points, then its geocoder.
            address = data.get("address", "")
            point = address_point_for(address) or _geocode(address)
            if point and neighborhood_for_point(*point) is not None:
                data["lat"], data["lng"] = lat, lng = point
        if lat is not None:
            self.point_neighborhood = neighborhood_for_point(lat, lng)
            if self.point_neighborhood is None:
                self.add_error(
                    "lat",
                    _(
                        "That point is outside every neighborhood we serve. "
                        "Click inside one of the outlined areas, or choose a neighborhood from the list."
                    ),
                )
            else:
                self._settle_disagreement(data)
            return
        if "neighborhood" not in self.errors and data.get("neighborhood") is None:
            self.add_error("neighborhood", _("Click the map where the problem is, or choose a neighborhood."))

    def _settle_disagreement(self, data):
        """The pin says one neighborhood, the list or the typed address another: ask which is right.

        A resident who moved the list after clicking the map, or typed "River Market" with the pin
        in 18th & Vine, would otherwise be filed where the pin is without knowing it.
        """
        pin = self.point_neighborhood
        chosen = data.get("neighborhood")
        if chosen is not None and chosen.pk != pin.pk:
            other, message = (
                chosen,
                _("The pin on the map is in %(pin)s, but you chose %(other)s from the list. Which is right?"),
            )
        else:
            named = neighborhood_named_in(data.get("address", "")) if chosen is None else None
            if named is None or named.pk == pin.pk:
                return
            other, message = (
                named,
                _("The pin on the map is in %(pin)s, but the address you typed names %(other)s. Which is right?"),
            )
        answer = data.get("location_choice")
        if answer == "pin":
            data["neighborhood"] = pin
        elif answer == "neighborhood":
            data["lat"] = data["lng"] = None
            data["neighborhood"] = other
            self.point_neighborhood = None
        else:
            self.location_conflict = (pin, other)
            self.add_error("lat", message % {"pin": pin.name, "other": other.name})

    def _clean_contact(self, data):
        if data.get("anonymous"):
            # Stored nowhere, whatever was typed.
            for name in ("reporter_name", "reporter_email", "reporter_phone"):
                data[name] = ""
            data["contact_consent"] = False
            return
        given = any(data.get(name) for name in ("reporter_name", "reporter_email", "reporter_phone"))
        reachable = data.get("reporter_email") or data.get("reporter_phone")
        if given and not data.get("contact_consent"):
            if not any(self.errors.get(n) for n in ("reporter_name", "reporter_email", "reporter_phone")):
                self.add_error(
                    "contact_consent",
                    _("Tick this box so we may contact you, or clear your details, or report anonymously."),
                )
        elif data.get("contact_consent") and not reachable and "reporter_email" not in self.errors:
            self.add_error("reporter_email", _("Give an email address or a phone number so we can contact you."))

    @property
    def location_errors(self):
        return [*self.errors.get("lat", []), *self.errors.get("lng", [])]


class FeedbackForm(_AccessibleFormMixin, forms.Form):
    fixed = forms.TypedChoiceField(
        label=_("Is it really fixed?"),
        choices=[("yes", _("Yes, it is fixed")), ("no", _("No, it is not fixed"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": _("Tell us whether it is fixed."), "invalid_choice": _("Choose yes or no.")},
    )
    satisfaction = forms.TypedChoiceField(
        label=_("How satisfied are you with how it was handled?"),
        help_text=_("1 = not at all, 5 = very satisfied."),
        choices=[(str(n), str(n)) for n in range(1, 6)],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose a number from 1 to 5."),
            "invalid_choice": _("Choose a number from 1 to 5."),
        },
    )
    comment = forms.CharField(
        label=_("Anything else? (optional)"),
        required=False,
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": COMMENT_MAX}),
    )
    website = forms.CharField(required=False, max_length=200)


class FollowForm(_AccessibleFormMixin, forms.Form):
    """Follow an issue from its status page: an email address, confirmed by a link sent to it."""

    email = forms.EmailField(
        label=_("Your email"),
        max_length=254,
        help_text=_("We send a link to confirm. The address is never shown to anyone."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={
            "required": _("Enter your email address."),
            "invalid": _("Enter an email address like name@example.org."),
        },
    )
