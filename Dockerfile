# CommonGround: one image for the web server (gunicorn), the Celery worker and Celery beat.
# docker-compose.yml says which process each container runs.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings \
    ENVIRONMENT=production \
    VAR_DIR=/app/var \
    STATIC_ROOT=/app/staticfiles \
    MEDIA_ROOT=/app/media

WORKDIR /app

# Dependencies first: this layer is rebuilt only when requirements.txt changes.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# Static files are collected at build time (whitenoise serves them, hashed and
# compressed). The key exists only for this build step; the settings refuse to
# start without the real SECRET_KEY at run time (and `migrate` without SITE_URL).
RUN SECRET_KEY=build-time-only-collectstatic-key-not-used-at-run-time-0000 \
    python manage.py collectstatic --noinput \
 && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin app \
 && mkdir -p /app/var /app/media \
 && chown -R app:app /app/var /app/media

USER app
EXPOSE 8000

# The access log leaves out query strings, client addresses, referrers and user agents
# (see docker-compose.yml's web command).
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-", \
     "--access-logformat", "%(t)s \"%(m)s %(U)s\" %(s)s %(b)s %(M)sms"]
