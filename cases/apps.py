from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Quality-of-life issues"

    def ready(self):
        from cases import figure_changes  # noqa: F401 (connects the rollups' change log)
