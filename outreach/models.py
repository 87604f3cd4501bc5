from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from cases.models import Issue, Problem
from core.models import QuickChoiceDisplay, TrackedFields
from partners.models import Neighborhood, Partner


class Activity(TrackedFields, QuickChoiceDisplay, models.Model):
    """An outreach activity an officer logs: not classic police work, and it counts."""

    TRACKED_FIELDS = ("neighborhood_id", "kind", "starts_at", "hours", "attendance", "problem_id")

    class Kind(models.TextChoices):
        SCHOOL_EVENT = "school_event", _("School event")
        YOUTH_SPORTS = "youth_sports", _("Youth sports")
        COMMUNITY_MEETING = "community_meeting", _("Community meeting")
        SERVICE = "service", _("Service to residents in need")
        CLEAN_UP = "clean_up", _("Infrastructure or clean-up")
        DOOR_TO_DOOR = "door_to_door", _("Door-to-door")
        PARTNER_MEETING = "partner_meeting", _("Partner meeting")
        CULTURAL = "cultural", _("Cultural or language-access event")
        OTHER = "other", _("Other")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=200)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    neighborhood = models.ForeignKey(Neighborhood, on_delete=models.PROTECT, related_name="activities")
    place = models.CharField(max_length=200, blank=True)
    officers = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="activities", blank=True)
    partners = models.ManyToManyField(Partner, related_name="activities", blank=True)
    attendance = models.PositiveIntegerField(default=0)
    # Officer-hours spent (duration × officers unless the officer says otherwise).
    hours = models.DecimalField(max_digits=7, decimal_places=2, default=0)
    languages = models.JSONField(default=list, blank=True)
    notes = models.TextField(blank=True, max_length=5000)
    issues = models.ManyToManyField(Issue, related_name="activities", blank=True)
    problem = models.ForeignKey(Problem, null=True, blank=True, on_delete=models.SET_NULL, related_name="activities")
    follow_up_needed = models.BooleanField(default=False)
    follow_up_note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="activities_logged"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-starts_at"]
        verbose_name_plural = "activities"
        indexes = [
            # Outreach log and dashboards: activities by date. The dashboard's outreach figures read
            # a period's activities from the index alone: what they group and sum is in its key.
            models.Index(
                fields=["-starts_at", "neighborhood", "kind", "hours", "attendance", "id"],
                name="activity_starts_idx",
            ),
            # Neighborhood pages and per-neighborhood outreach hours (index-only, as above).
            models.Index(
                fields=["neighborhood", "starts_at", "kind", "hours", "attendance", "id"],
                name="activity_nbhd_starts_idx",
            ),
            # Outreach hours by kind.
            models.Index(fields=["kind", "starts_at"], name="activity_kind_starts_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gte=F("starts_at")), name="activity_ends_after_starts"),
            models.CheckConstraint(condition=Q(hours__gte=0), name="activity_hours_nonnegative"),
        ]
        permissions = [("edit_any_activity", "Can edit any officer's outreach activity")]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return f"/outreach/{self.pk}/"


class ActivityRevision(models.Model):
    """What an edit of an activity changed, and who made it."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="revisions")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    changes = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Edit of activity {self.activity_id}"
