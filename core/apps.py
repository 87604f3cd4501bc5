from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models import IntegerField, JSONField

        import core.site  # noqa: F401 (registers the SITE_URL system check)
        from core.heap import freeze_after_first_request
        from core.lookups import HasItem, InArray

        # Every JSONField gets ``__has_item``, the list-membership filter both databases run.
        JSONField.register_lookup(HasItem)
        # Ids (every integer field, primary keys included) as one bound array on PostgreSQL.
        IntegerField.register_lookup(InArray)
        # The process's lasting objects out of the garbage collector's walks (core.heap).
        freeze_after_first_request()
