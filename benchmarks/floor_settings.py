"""Settings of the gunicorn that ``benchmarks.form_load`` starts: the product's, plus the floor view.

Everything — middleware, sessions, CSRF, the database and cache settings the
environment gives — is ``config.settings`` itself; only the URLconf differs,
so the floor view exists in the bench server alone and never in the product.
"""

from config.settings import *  # noqa: F403 (the product's settings, unchanged)

ROOT_URLCONF = "benchmarks.floor_urls"
