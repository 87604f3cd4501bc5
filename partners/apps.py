from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "partners"
    verbose_name = "Community partners and neighborhoods"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from partners.signals import staff_language_on_login

        user_logged_in.connect(staff_language_on_login, dispatch_uid="partners.staff_language_on_login")
