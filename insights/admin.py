"""The trust pulse's statements, edited by the Administrator (the survey asks the active ones)."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from insights.models import PulseStatement

MIN_ACTIVE, MAX_ACTIVE = 3, 5


class PulseStatementForm(forms.ModelForm):
    class Meta:
        model = PulseStatement
        fields = ("text_en", "text_es", "position", "active")
        help_texts = {
            "text_en": "Residents rate it from 'strongly disagree' to 'strongly agree'. To ask something "
            "else, add a statement and make this one inactive: its answers stay in the trend.",
        }

    def clean(self):
        cleaned = super().clean()
        others = PulseStatement.objects.filter(active=True).exclude(pk=self.instance.pk).count()
        active = others + (1 if cleaned.get("active") else 0)
        if active > MAX_ACTIVE:
            raise ValidationError(f"The survey asks at most {MAX_ACTIVE} statements: make another one inactive first.")
        # (the instance still holds the saved values here: only a change that lowers the count is refused)
        if active < MIN_ACTIVE and self.instance.pk is not None and self.instance.active and not cleaned.get("active"):
            raise ValidationError(f"The survey asks at least {MIN_ACTIVE} statements: add or activate another first.")
        return cleaned


@admin.register(PulseStatement)
class PulseStatementAdmin(admin.ModelAdmin):
    form = PulseStatementForm
    list_display = ("text_en", "text_es", "position", "active")
    list_editable = ("position",)
    list_filter = ("active",)

    def has_delete_permission(self, request, obj=None):
        # Answered statements are kept for the trend (the answers refer to them): make one inactive.
        return obj is not None and not obj.answers.exists() and super().has_delete_permission(request, obj)
