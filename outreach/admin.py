from django.contrib import admin

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
