from django.apps import AppConfig


class DemoConfig(AppConfig):
    """``seed_demo`` and its data files: the demo city ``make run`` starts with. Imported by nothing."""

    name = "demo"
    verbose_name = "Demo data"
