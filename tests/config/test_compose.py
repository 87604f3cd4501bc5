"""docker-compose.yml and the Dockerfile, checked without a Docker engine.

The file is parsed; the services, their commands, healthchecks, dependencies and
environment are checked; the production environment it gives the app is fed to
``manage.py check --deploy``; and the web and beat healthchecks are executed
against a live server and the test database.
"""

import os
import re
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml
from django.conf import settings
from django.utils import timezone

from cases.models import SweepRun
from tests.stack import interpolate

ROOT = Path(settings.BASE_DIR)
APP_SERVICES = ("web", "worker", "beat")


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose):
    return compose["services"]


def app_environment(services, service, given=None):
    return {key: interpolate(value, given) for key, value in services[service]["environment"].items()}


def command_text(service):
    command = service["command"]
    return command if isinstance(command, str) else " ".join(command)


def test_the_five_services_are_there(services):
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    for name in APP_SERVICES + ("migrate",):
        assert services[name]["build"] == "."


def test_commands(services):
    web = command_text(services["web"])
    assert web.startswith("gunicorn ") and "config.wsgi:application" in web and "--bind=0.0.0.0:8000" in web
    assert command_text(services["worker"]).startswith("celery -A config worker")
    beat = command_text(services["beat"])
    assert beat.startswith("celery -A config beat") and "--schedule=/app/var/celerybeat-schedule" in beat
    assert command_text(services["migrate"]) == "python manage.py migrate --noinput"
    assert services["migrate"]["restart"] == "no"


def test_every_long_running_service_has_a_healthcheck(services):
    for name in ("postgres", "redis", *APP_SERVICES):
        check = services[name]["healthcheck"]
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name
        assert check["interval"] and check["retries"] >= 3, name
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    assert "inspect ping" in " ".join(services["worker"]["healthcheck"]["test"])
    assert "last_sweep_run" in " ".join(services["beat"]["healthcheck"]["test"])


def test_start_order(services):
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in APP_SERVICES:
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["redis"]["condition"] == "service_healthy", name
    for name in ("web", "worker"):
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_each_app_service_gets_the_environment_it_needs(services):
    for name in APP_SERVICES + ("migrate",):
        env = app_environment(services, name, {"SECRET_KEY": "x" * 60, "SITE_URL": "https://cg.example.org"})
        assert env["ENVIRONMENT"] == "production"
        assert env["SECRET_KEY"] == "x" * 60
        assert env["ALLOWED_HOSTS"]
        database = urlparse(env["DATABASE_URL"])
        assert (database.scheme, database.hostname, database.port, database.path) == (
            "postgres",
            "postgres",
            5432,
            "/" + services["postgres"]["environment"]["POSTGRES_DB"],
        )
        assert database.username == services["postgres"]["environment"]["POSTGRES_USER"]
        assert database.password == interpolate(services["postgres"]["environment"]["POSTGRES_PASSWORD"])
        broker = urlparse(env["CELERY_BROKER_URL"])
        assert (broker.scheme, broker.hostname, broker.port) == ("redis", "redis", 6379)


def test_secret_key_has_no_default(services):
    with pytest.raises(KeyError, match="SECRET_KEY"):
        app_environment(services, "web")


def test_site_url_has_no_default(services):
    with pytest.raises(KeyError, match="SITE_URL"):
        app_environment(services, "web", {"SECRET_KEY": "x" * 60})


def test_every_variable_given_to_the_app_is_one_the_settings_read(services):
    source = (ROOT / "config" / "settings.py").read_text(encoding="utf-8")
    read = set(re.findall(r"env(?:_bool|_list|_int)?\(\s*\"([A-Z_0-9]+)\"", source))
    given = set(services["web"]["environment"])
    assert given - read == set()
    assert {"DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY", "ALLOWED_HOSTS", "ENVIRONMENT"} <= given


def test_the_production_environment_passes_check_deploy(services, tmp_path):
    env = app_environment(
        services, "web", {"SECRET_KEY": secrets.token_urlsafe(50), "SITE_URL": "https://cg.example.org"}
    )
    env.update(PATH=os.environ["PATH"], HOME=str(tmp_path), VAR_DIR=str(tmp_path / "var"))
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues (0 silenced)." in done.stdout


def test_dockerfile_builds_from_python_311_slim_and_collects_static():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.MULTILINE)
    assert "RUN pip install -r requirements.txt" in dockerfile
    assert "manage.py collectstatic --noinput" in dockerfile
    assert re.search(r"^USER app$", dockerfile, re.MULTILINE), "the app does not run as root"
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".venv", "var", ".git"} <= set(ignored)


def _checked_healthcheck_code(service):
    test = service["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    return test[3]


def test_web_healthcheck_passes_against_a_healthy_server(services, live_server, tmp_path):
    port = urlparse(live_server.url).port
    code = _checked_healthcheck_code(services["web"]).replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    env = {"PATH": os.environ["PATH"], "ALLOWED_HOSTS": "localhost,127.0.0.1"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    # The same check fails when nothing answers.
    closed = code.replace(f"127.0.0.1:{port}", "127.0.0.1:9")
    done = subprocess.run([sys.executable, "-c", closed], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0


@pytest.mark.django_db(transaction=True)
def test_beat_healthcheck_follows_the_sweeps(services, tmp_path):
    db = settings.DATABASES["default"]
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": os.environ["CELERY_BROKER_URL"],
        "ESCALATION_SWEEP_SECONDS": "60",
    }
    code = _checked_healthcheck_code(services["beat"])

    def healthy():
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, timeout=60)
        return done.returncode == 0

    assert not healthy()  # no sweep yet
    now = timezone.now()
    run = SweepRun.objects.create(started_at=now - timedelta(minutes=10), finished_at=now - timedelta(minutes=10))
    assert not healthy()  # 10 minutes ago: beat or worker stopped
    # A run that started since but never finished (killed, or stuck) proves nothing yet.
    SweepRun.objects.create(started_at=now, progress_at=now, batches=2, escalations=300)
    assert not healthy()
    SweepRun.objects.filter(pk=run.pk).update(started_at=now, finished_at=now)
    assert healthy()
