from django.apps import AppConfig


class OutreachConfig(AppConfig):
    name = "outreach"
    verbose_name = "Outreach"

    def ready(self):
        from outreach import figure_changes  # noqa: F401 (connects the rollups' change log)
