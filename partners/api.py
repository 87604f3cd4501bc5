"""REST API of the partners app: neighborhoods (public, also as GeoJSON), partner
organisations and their contacts (staff), the staff directory and ``/me/``.
"""

from __future__ import annotations

import django_filters
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Prefetch, Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.roles import ROLE_NAMES, roles_of
from core.api.common import ActionPermission, IdFilter, SafeCharFilter
from core.api.lean import LeanRepresentation
from partners.models import LANGUAGE_CHOICES, Neighborhood, Partner, PartnerContact, StaffProfile

User = get_user_model()
ID_PATTERN = r"[0-9]+"


# --- neighborhoods ------------------------------------------------------------------


class PointSerializer(serializers.Serializer):
    lat = serializers.FloatField()
    lng = serializers.FloatField()


class NeighborhoodSerializer(LeanRepresentation, serializers.ModelSerializer):
    center = serializers.SerializerMethodField()
    bbox = serializers.SerializerMethodField()
    languages = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Neighborhood
        fields = ["id", "name", "slug", "beat", "district", "languages", "population", "center", "bbox"]
        read_only_fields = fields

    @extend_schema_field(PointSerializer(allow_null=True))
    def get_center(self, obj):
        if obj.center_lat is None or obj.center_lng is None:
            return None
        return {"lat": obj.center_lat, "lng": obj.center_lng}

    @extend_schema_field(
        {
            "type": "array",
            "items": {"type": "number"},
            "minItems": 4,
            "maxItems": 4,
            "nullable": True,
            "description": "[min_lng, min_lat, max_lng, max_lat] (GeoJSON order)",
        }
    )
    def get_bbox(self, obj):
        if None in (obj.min_lng, obj.min_lat, obj.max_lng, obj.max_lat):
            return None
        return [obj.min_lng, obj.min_lat, obj.max_lng, obj.max_lat]


GEOMETRY_SCHEMA = {
    "type": "object",
    "description": "GeoJSON Polygon or MultiPolygon (coordinates in lng, lat order); empty when not drawn yet.",
    "properties": {
        "type": {"type": "string", "enum": ["Polygon", "MultiPolygon"]},
        "coordinates": {"type": "array", "items": {}},
    },
}


class NeighborhoodDetailSerializer(NeighborhoodSerializer):
    boundary = serializers.SerializerMethodField()

    class Meta(NeighborhoodSerializer.Meta):
        fields = [*NeighborhoodSerializer.Meta.fields, "boundary"]
        read_only_fields = fields

    @extend_schema_field(GEOMETRY_SCHEMA)
    def get_boundary(self, obj):
        return obj.boundary or {}


class NeighborhoodFilter(django_filters.FilterSet):
    slug = SafeCharFilter()
    district = SafeCharFilter()
    beat = SafeCharFilter()
    q = SafeCharFilter(field_name="name", lookup_expr="icontains", help_text="Part of the name.")

    class Meta:
        model = Neighborhood
        fields = []


def neighborhoods_public():
    return Neighborhood.objects.order_by("name")


@extend_schema_view(
    list=extend_schema(summary="Neighborhoods with beat and district (public)", tags=["catalog"]),
    retrieve=extend_schema(summary="One neighborhood with its boundary (public)", tags=["catalog"]),
)
class NeighborhoodViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [permissions.AllowAny]
    lookup_value_regex = ID_PATTERN
    filterset_class = NeighborhoodFilter
    ordering_fields = ["name", "district", "id"]
    ordering = ["name", "id"]

    def get_queryset(self):
        return neighborhoods_public()

    def get_serializer_class(self):
        return NeighborhoodDetailSerializer if self.action == "retrieve" else NeighborhoodSerializer


class GeoJSONRenderer(JSONRenderer):
    media_type = "application/geo+json"
    format = "geojson"


class FeatureSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["Feature"])
    id = serializers.IntegerField()
    geometry = serializers.SerializerMethodField()
    properties = NeighborhoodSerializer()

    @extend_schema_field({**GEOMETRY_SCHEMA, "nullable": True})
    def get_geometry(self, obj):  # the view builds features as dicts; this documents them
        return obj["geometry"]


class FeatureCollectionSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["FeatureCollection"])
    features = FeatureSerializer(many=True)


class NeighborhoodGeoJSONView(APIView):
    """Every neighborhood as one GeoJSON FeatureCollection (for maps), unpaginated."""

    permission_classes = [permissions.AllowAny]
    renderer_classes = [GeoJSONRenderer, JSONRenderer]

    @extend_schema(
        summary="Neighborhoods as a GeoJSON FeatureCollection (public)",
        responses={200: FeatureCollectionSerializer},
        tags=["catalog"],
    )
    def get(self, request):
        features = []
        for neighborhood in neighborhoods_public():
            properties = NeighborhoodSerializer(neighborhood).data
            features.append(
                {
                    "type": "Feature",
                    "id": neighborhood.pk,
                    "geometry": neighborhood.boundary or None,
                    "properties": properties,
                }
            )
        return Response({"type": "FeatureCollection", "features": features})


# --- partners -----------------------------------------------------------------------


class PartnerContactSerializer(LeanRepresentation, serializers.ModelSerializer):
    languages = serializers.ListField(child=serializers.CharField(), read_only=True)
    email = serializers.CharField(read_only=True)  # blank when unknown: not an email format

    class Meta:
        model = PartnerContact
        fields = ["id", "name", "role", "email", "phone", "languages", "is_primary"]
        read_only_fields = fields


class PartnerSerializer(LeanRepresentation, serializers.ModelSerializer):
    cops_type = serializers.ChoiceField(
        choices=Partner.CopsType.choices,
        read_only=True,
        help_text="The DOJ COPS Office partner type the kind rolls up to.",
    )
    neighborhoods = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    contacts = PartnerContactSerializer(many=True, read_only=True)
    languages = serializers.ListField(child=serializers.CharField(), read_only=True)
    # Blank when unknown, so plain strings (an empty string is neither a URI nor an email).
    website = serializers.CharField(read_only=True)
    email = serializers.CharField(read_only=True)

    class Meta:
        model = Partner
        fields = [
            "id",
            "name",
            "kind",
            "cops_type",
            "description",
            "website",
            "phone",
            "email",
            "address",
            "languages",
            "active_since",
            "is_active",
            "neighborhoods",
            "contacts",
        ]
        read_only_fields = fields


class PartnerFilter(django_filters.FilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=Partner.Kind.choices)
    cops_type = django_filters.ChoiceFilter(choices=Partner.CopsType.choices, method="filter_cops_type")
    neighborhood = IdFilter(field_name="neighborhoods", help_text="Serves this neighborhood id.")
    language = django_filters.ChoiceFilter(choices=LANGUAGE_CHOICES, method="filter_language")
    is_active = django_filters.BooleanFilter()
    q = SafeCharFilter(method="filter_q", help_text="Part of the name, description or address.")

    class Meta:
        model = Partner
        fields = []

    def filter_cops_type(self, queryset, name, value: str):
        kinds = [str(kind) for kind, cops in Partner.COPS_TYPE_OF_KIND.items() if cops == value]
        return queryset.filter(kind__in=kinds)

    def filter_language(self, queryset, name, value: str):
        return queryset.filter(languages__has_item=value)

    def filter_q(self, queryset, name, value: str):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value) | Q(address__icontains=value))


@extend_schema_view(
    list=extend_schema(summary="Partner organisations and their contacts", tags=["partners"]),
    retrieve=extend_schema(summary="One partner organisation", tags=["partners"]),
)
class PartnerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [ActionPermission]
    required_perms = {"*": "partners.view_partner"}
    lookup_value_regex = ID_PATTERN
    serializer_class = PartnerSerializer
    filterset_class = PartnerFilter
    ordering_fields = ["name", "active_since", "id"]
    ordering = ["name", "id"]

    def get_queryset(self):
        contacts = PartnerContact.objects.order_by("-is_primary", "name")
        if not self.request.user.has_perm("partners.view_partnercontact"):
            contacts = contacts.none()
        return Partner.objects.prefetch_related(
            Prefetch("contacts", queryset=contacts),
            Prefetch("neighborhoods", queryset=Neighborhood.objects.only("id").order_by("name")),
        ).distinct()


# --- staff directory and the signed-in user -----------------------------------------


class StaffSerializer(LeanRepresentation, serializers.ModelSerializer):
    name = serializers.SerializerMethodField()
    roles = serializers.SerializerMethodField()
    badge_number = serializers.SerializerMethodField()
    neighborhoods = serializers.SerializerMethodField()
    districts = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "name", "roles", "badge_number", "neighborhoods", "districts"]
        read_only_fields = fields

    def _profile(self, user) -> StaffProfile | None:
        return getattr(user, "staff_profile", None)

    @extend_schema_field(OpenApiTypes.STR)
    def get_name(self, user):
        return user.get_full_name() or user.get_username()

    @extend_schema_field({"type": "array", "items": {"type": "string", "enum": list(ROLE_NAMES)}})
    def get_roles(self, user):
        listed = getattr(user, "role_groups", None)  # staff_directory's prefetch, as a plain list
        names = {g.name for g in (user.groups.all() if listed is None else listed)}
        if user.is_superuser:
            names.add("Administrator")
        return [name for name in ROLE_NAMES if name in names]

    @extend_schema_field(OpenApiTypes.STR)
    def get_badge_number(self, user):
        profile = self._profile(user)
        return profile.badge_number if profile else ""

    @extend_schema_field({"type": "array", "items": {"type": "integer"}})
    def get_neighborhoods(self, user):
        profile = self._profile(user)
        if profile is None:
            return []
        listed = getattr(profile, "neighborhood_list", None)  # staff_directory's prefetch, as a plain list
        return sorted(n.pk for n in (profile.neighborhoods.all() if listed is None else listed))

    @extend_schema_field({"type": "array", "items": {"type": "string"}})
    def get_districts(self, user):
        profile = self._profile(user)
        return list(profile.districts or []) if profile else []


class StaffFilter(django_filters.FilterSet):
    neighborhood = IdFilter(field_name="staff_profile__neighborhoods", help_text="Attached to this neighborhood id.")
    district = SafeCharFilter(method="filter_district", help_text="Attached to this whole district.")
    q = SafeCharFilter(method="filter_q", help_text="Part of the username or name.")

    class Meta:
        model = User
        fields = []

    def filter_district(self, queryset, name, value: str):
        return queryset.filter(staff_profile__districts__has_item=value)

    def filter_q(self, queryset, name, value: str):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(username__icontains=value) | Q(first_name__icontains=value) | Q(last_name__icontains=value)
        )


def staff_directory():
    """Active officers and supervisors (the people issues can be assigned to and outreach names).

    Their groups and neighborhoods are prefetched as plain lists (``to_attr``): a prefetch into
    the related managers builds a manager and a queryset per person and relation, which was
    half of drawing a page of 50."""
    return (
        User.objects.filter(is_active=True, groups__name__in=ROLE_NAMES)
        .select_related("staff_profile")
        .prefetch_related(
            Prefetch("groups", queryset=Group.objects.only("id", "name"), to_attr="role_groups"),
            Prefetch(
                "staff_profile__neighborhoods", queryset=Neighborhood.objects.only("id"), to_attr="neighborhood_list"
            ),
        )
        .distinct()
    )


@extend_schema_view(
    list=extend_schema(summary="Active officers and supervisors", tags=["staff"]),
    retrieve=extend_schema(summary="One staff member", tags=["staff"]),
)
class StaffViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [ActionPermission]
    required_perms = {"*": "partners.view_staffprofile"}
    lookup_value_regex = ID_PATTERN
    serializer_class = StaffSerializer
    filterset_class = StaffFilter
    ordering_fields = ["username", "last_name", "id"]
    ordering = ["last_name", "first_name", "username", "id"]

    def get_queryset(self):
        return staff_directory()


class MeSerializer(StaffSerializer):
    permissions = serializers.SerializerMethodField()

    class Meta(StaffSerializer.Meta):
        fields = [*StaffSerializer.Meta.fields, "permissions"]
        read_only_fields = fields

    @extend_schema_field({"type": "array", "items": {"type": "string"}})
    def get_permissions(self, user):
        return sorted(user.get_all_permissions())

    @extend_schema_field({"type": "array", "items": {"type": "string", "enum": list(ROLE_NAMES)}})
    def get_roles(self, user):
        return sorted(roles_of(user), key=list(ROLE_NAMES).index)


class MeView(APIView):
    permission_classes = [ActionPermission]
    required_perms = {"*": None}

    @extend_schema(
        summary="The signed-in user: roles, areas and permissions", responses={200: MeSerializer}, tags=["staff"]
    )
    def get(self, request):
        return Response(MeSerializer(request.user).data)
