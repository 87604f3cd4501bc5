from django.contrib import admin

from outreach import services
from outreach.models import Activity, ActivityRevision


class ActivityRevisionInline(admin.TabularInline):
    model = ActivityRevision
    extra = 0
    readonly_fields = ("actor", "changes", "created_at")
    can_delete = False


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "neighborhood", "starts_at", "attendance", "hours")
    list_filter = ("kind", "neighborhood__district", "follow_up_needed")
    search_fields = ("title", "place", "notes")
    filter_horizontal = ("officers", "partners")
    raw_id_fields = ("issues", "problem", "created_by")
    date_hierarchy = "starts_at"
    inlines = [ActivityRevisionInline]

    # The admin writes an activity and its partner links itself; the partners' outreach figures
    # (Partner.activity_count, last_activity_at) are recounted by the service for every partner it
    # had before and has after, in the admin's transaction (change and delete views are atomic).

    def save_model(self, request, obj, form, change):
        obj._partners_before = set()
        if change:
            # Locked, so another edit cannot change the links between this read and the save.
            Activity.objects.select_for_update().filter(pk=obj.pk).values_list("pk").first()
            obj._partners_before = set(obj.partners.values_list("pk", flat=True))
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        activity = form.instance
        after = set(activity.partners.values_list("pk", flat=True))
        services.partner_figures_refresh(partner_ids=getattr(activity, "_partners_before", set()) | after)

    def delete_model(self, request, obj):
        services.activities_delete(activities=Activity.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        services.activities_delete(activities=queryset)
