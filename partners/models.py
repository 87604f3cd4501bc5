from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import QuickChoiceDisplay

# Languages a neighborhood speaks, a partner works in, an outreach activity used.
LANGUAGE_CHOICES = [
    ("en", _("English")),
    ("es", _("Spanish")),
    ("vi", _("Vietnamese")),
    ("so", _("Somali")),
    ("ar", _("Arabic")),
    ("zh", _("Chinese")),
    ("fr", _("French")),
    ("sw", _("Swahili")),
    ("asl", _("American Sign Language")),
    ("other", _("Other")),
]


class Neighborhood(models.Model):
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)
    beat = models.CharField(max_length=40, blank=True, help_text="Patrol beat, e.g. 'B-114'.")
    district = models.CharField(max_length=80, blank=True, help_text="Patrol division/district.")
    boundary = models.JSONField(default=dict, blank=True, help_text="GeoJSON Polygon or MultiPolygon (lng, lat).")
    languages = models.JSONField(default=list, blank=True, help_text="Language codes spoken, e.g. ['en', 'es'].")
    population = models.PositiveIntegerField(null=True, blank=True)
    # Bounding box and centroid are derived from the boundary on save (see
    # services.neighborhood_upsert); the box lets SQL prefilter point lookups.
    min_lat = models.FloatField(null=True, blank=True)
    min_lng = models.FloatField(null=True, blank=True)
    max_lat = models.FloatField(null=True, blank=True)
    max_lng = models.FloatField(null=True, blank=True)
    center_lat = models.FloatField(null=True, blank=True)
    center_lng = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [
            # Point-in-polygon lookups prefilter candidates by bounding box.
            models.Index(fields=["min_lat", "max_lat", "min_lng", "max_lng"], name="nbhd_bbox_idx"),
            # Dashboard and assignment filters by district.
            models.Index(fields=["district"], name="nbhd_district_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_lat__isnull=True) | Q(min_lat__lte=models.F("max_lat")),
                name="nbhd_bbox_lat_ordered",
            ),
            models.CheckConstraint(
                condition=Q(min_lng__isnull=True) | Q(min_lng__lte=models.F("max_lng")),
                name="nbhd_bbox_lng_ordered",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return f"/neighborhoods/{self.slug}/"


class Partner(QuickChoiceDisplay, models.Model):
    class Kind(models.TextChoices):
        SCHOOL = "school", _("School")
        FAITH = "faith", _("Faith group")
        YOUTH_LEAGUE = "youth_league", _("Youth league")
        BUSINESS = "business", _("Business")
        NONPROFIT = "nonprofit", _("Nonprofit")
        NEIGHBORHOOD_ASSOCIATION = "neighborhood_association", _("Neighborhood association")
        CITY_AGENCY = "city_agency", _("City agency")
        MEDIA = "media", _("Media")

    class CopsType(models.TextChoices):
        """The five partner types of the DOJ COPS Office's *Community Policing Defined*."""

        GOVERNMENT = "government", _("Other government agencies")
        COMMUNITY = "community", _("Community members and groups")
        NONPROFIT = "nonprofit", _("Nonprofits and service providers")
        BUSINESS = "business", _("Private businesses")
        MEDIA = "media", _("Media")

    COPS_TYPE_OF_KIND = {
        Kind.SCHOOL: CopsType.GOVERNMENT,
        Kind.CITY_AGENCY: CopsType.GOVERNMENT,
        Kind.FAITH: CopsType.COMMUNITY,
        Kind.YOUTH_LEAGUE: CopsType.COMMUNITY,
        Kind.NEIGHBORHOOD_ASSOCIATION: CopsType.COMMUNITY,
        Kind.NONPROFIT: CopsType.NONPROFIT,
        Kind.BUSINESS: CopsType.BUSINESS,
        Kind.MEDIA: CopsType.MEDIA,
    }

    name = models.CharField(max_length=160, unique=True)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    neighborhoods = models.ManyToManyField(Neighborhood, related_name="partners", blank=True)
    description = models.TextField(blank=True)
    website = models.URLField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    address = models.CharField(max_length=200, blank=True)
    languages = models.JSONField(default=list, blank=True)
    active_since = models.DateField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    # How many outreach activities list this partner, and when the latest of them started: the
    # directory shows them on every row, and reading them from the activities cost a page as much
    # as the partners' whole outreach history (issue 14). Written only by the outreach services
    # (outreach.services.partner_figures_refresh), recomputed from the activity rows in the
    # transaction that changes an activity's partners or start or deletes it.
    activity_count = models.PositiveIntegerField(default=0, editable=False)
    last_activity_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # The outreach figures above; a save of the partner's own fields leaves them to the outreach services.
    OUTREACH_FIGURES = ("activity_count", "last_activity_at")

    class Meta:
        ordering = ["name"]
        indexes = [
            # Directory filter by kind among active partners.
            models.Index(fields=["kind", "is_active"], name="partner_kind_active_idx"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        # An edit of an existing partner (the admin's form, a script) writes its own fields only: the
        # outreach figures it loaded may have changed since, in a transaction that logged an activity,
        # and writing them back would undo that recount.
        if not self._state.adding and kwargs.get("update_fields") is None and not kwargs.get("force_insert"):
            deferred = self.get_deferred_fields()
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.attname not in deferred and field.name not in self.OUTREACH_FIGURES
            ]
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return f"/partners/{self.pk}/"

    @property
    def cops_type(self):
        return self.COPS_TYPE_OF_KIND[self.Kind(self.kind)]

    def get_cops_type_display(self):
        return self.CopsType(self.cops_type).label


class PartnerContact(models.Model):
    """A person at a partner organisation the department works with."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=120)
    role = models.CharField(max_length=120, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    languages = models.JSONField(default=list, blank=True)
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_primary", "name"]
        constraints = [
            # At most one primary contact per partner.
            models.UniqueConstraint(
                fields=["partner"], condition=Q(is_primary=True), name="partnercontact_one_primary"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.partner})"


class StaffProfile(models.Model):
    """Where an officer or supervisor works: neighborhoods and/or whole districts."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile")
    badge_number = models.CharField(max_length=20, blank=True)
    neighborhoods = models.ManyToManyField(Neighborhood, related_name="staff", blank=True)
    districts = models.JSONField(default=list, blank=True, help_text="Whole districts, e.g. ['Central'].")
    languages = models.JSONField(default=list, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    # The language of the staff pages and emails for this person (``core.language``).
    language = models.CharField(
        "language of the pages",
        max_length=8,
        choices=[("en", "English"), ("es", "Español")],
        default="en",
    )

    class Meta:
        ordering = ["user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["badge_number"], condition=~Q(badge_number=""), name="staffprofile_badge_unique"
            ),
        ]

    def __str__(self):
        return f"{self.user.get_full_name() or self.user.username}"


class AddressPoint(models.Model):
    """One of the city's address points, as it publishes them (``manage.py import_addresses``).

    Public data: where the resident form's address field finds a place without an outside
    geocoder. ``search`` is the address in one normal form (``partners.addresses.normalize``) so
    that "12th street" finds "12TH ST"; ``label`` is the address as the city writes it.
    """

    source_id = models.CharField(max_length=100, unique=True, help_text="The city's own id of the point.")
    number = models.CharField(max_length=20, blank=True)
    street = models.CharField(max_length=120, blank=True)
    unit = models.CharField(max_length=40, blank=True)
    city = models.CharField(max_length=80, blank=True)
    postal_code = models.CharField(max_length=12, blank=True)
    label = models.CharField(max_length=250, help_text="The address as published, for display.")
    search = models.CharField(max_length=250, help_text="Upper case, no punctuation, street types abbreviated.")
    lat = models.FloatField()
    lng = models.FloatField()
    # Resolved from the point when imported (the boundaries' point-in-polygon test); empty outside them.
    neighborhood = models.ForeignKey(
        Neighborhood, null=True, blank=True, on_delete=models.SET_NULL, related_name="address_points"
    )

    class Meta:
        ordering = ["search", "id"]
        indexes = [
            # The form's exact match of a typed address (no JavaScript, Open311's address_string).
            # The suggestions' LIKE '%…%' is served on PostgreSQL by a pg_trgm GIN index the
            # migration adds (partners 0003), which Django's Meta cannot spell portably.
            models.Index(fields=["search"], name="addresspoint_search_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(lat__gte=-90, lat__lte=90, lng__gte=-180, lng__lte=180),
                name="addresspoint_coordinates_range",
            ),
            models.CheckConstraint(condition=~Q(search=""), name="addresspoint_search_not_empty"),
        ]

    def __str__(self):
        return self.label
