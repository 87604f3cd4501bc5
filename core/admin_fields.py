"""Form-field defaults shared by the apps' admin classes."""

from django.db import models

# A link typed without a scheme means https (Django 6's default; 5.2 still assumes http and warns).
URL_FORM_FIELDS = {models.URLField: {"assume_scheme": "https"}}
