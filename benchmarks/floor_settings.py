"""Settings of the gunicorn the HTTP benchmarks start: the product's, plus the bench-only views.

``benchmarks.form_load`` and ``benchmarks.http`` run gunicorn with them (``benchmarks.server``).

Everything — middleware, sessions, CSRF, the database and cache settings the
environment gives — is ``config.settings`` itself; only the URLconf differs,
so the bench-only views (the form's floor, the no-database view) exist in the
bench server alone and never in the product.
"""

from config.settings import *  # noqa: F403 (the product's settings, unchanged)

ROOT_URLCONF = "benchmarks.floor_urls"
