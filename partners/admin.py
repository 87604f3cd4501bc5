from django.contrib import admin, messages

from core.admin_fields import URL_FORM_FIELDS
from partners import services
from partners.addresses import normalize
from partners.models import AddressPoint, Neighborhood, Partner, PartnerContact, StaffProfile


@admin.register(Neighborhood)
class NeighborhoodAdmin(admin.ModelAdmin):
    list_display = ("name", "beat", "district", "population")
    list_filter = ("district",)
    search_fields = ("name", "beat", "district")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("min_lat", "min_lng", "max_lat", "max_lng", "center_lat", "center_lng")

    def save_model(self, request, obj, form, change):
        # Boundary validation and the derived box go through the service.
        try:
            services.neighborhood_refresh_geometry(neighborhood=obj)
        except services.GeometryError as exc:
            messages.error(request, f"Boundary not saved: {exc}")
            return
        super().save_model(request, obj, form, change)


class PartnerContactInline(admin.TabularInline):
    model = PartnerContact
    extra = 0


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    formfield_overrides = URL_FORM_FIELDS
    list_display = ("name", "kind", "is_active", "active_since")
    list_filter = ("kind", "is_active", "neighborhoods__district")
    search_fields = ("name",)
    filter_horizontal = ("neighborhoods",)
    inlines = [PartnerContactInline]


@admin.register(PartnerContact)
class PartnerContactAdmin(admin.ModelAdmin):
    list_display = ("name", "partner", "role", "is_primary")
    search_fields = ("name", "partner__name")
    list_select_related = ("partner",)


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "badge_number", "districts")
    search_fields = ("user__username", "user__first_name", "user__last_name", "badge_number")
    filter_horizontal = ("neighborhoods",)
    list_select_related = ("user",)


@admin.register(AddressPoint)
class AddressPointAdmin(admin.ModelAdmin):
    """The city's address points: loaded by ``manage.py import_addresses``, looked at here (and removed
    if need be), not typed in one by one."""

    list_display = ("label", "neighborhood", "lat", "lng", "source_id")
    list_filter = ("neighborhood",)
    search_fields = ("search", "source_id")
    list_select_related = ("neighborhood",)
    readonly_fields = (
        "source_id",
        "number",
        "street",
        "unit",
        "city",
        "postal_code",
        "label",
        "search",
        "lat",
        "lng",
        "neighborhood",
    )
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def get_search_results(self, request, queryset, search_term):
        # Searched in the stored form: "12th street" finds "12TH ST".
        return super().get_search_results(request, queryset, normalize(search_term) or search_term)
