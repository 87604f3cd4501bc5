from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Staff sign-in and lockout, the permissions backend, and the role groups (with their migration)."""

    name = "accounts"
    verbose_name = "Accounts"
    default_auto_field = "django.db.models.BigAutoField"
