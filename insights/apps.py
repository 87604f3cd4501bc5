from django.apps import AppConfig


class InsightsConfig(AppConfig):
    """Every read and page that combines the apps: the dashboard, transparency, the stats API, the directories."""

    name = "insights"
    verbose_name = "Insights"
