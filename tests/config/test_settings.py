"""Settings read the environment in one place. Each case starts a fresh interpreter
with a clean environment, because settings are read once, at start-up."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)

SHOW = """
import json, django
django.setup()
from django.conf import settings as s
db = s.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "host": db.get("HOST", ""),
    "conn_max_age": db["CONN_MAX_AGE"], "options": db.get("OPTIONS", {}),
    "broker": s.CELERY_BROKER_URL, "broker_options": s.CELERY_BROKER_TRANSPORT_OPTIONS,
    "cache": s.CACHES["default"]["BACKEND"], "debug": s.DEBUG, "time_zone": s.TIME_ZONE,
    "languages": [code for code, _ in s.LANGUAGES], "email": s.EMAIL_BACKEND, "allowed_hosts": s.ALLOWED_HOSTS,
    "secure": [s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS],
    "static_root": str(s.STATIC_ROOT), "media_root": str(s.MEDIA_ROOT),
}))
"""


def clean_env(tmp_path, **values):
    """Only what a shell on a fresh machine has, plus ``values``."""
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "VAR_DIR": str(tmp_path / "var")}
    env.update({k: v for k, v in values.items() if v is not None})
    return env


def run(tmp_path, args, **values):
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=clean_env(tmp_path, DJANGO_SETTINGS_MODULE="config.settings", **values),
        capture_output=True,
        text=True,
        timeout=120,
    )


def checked_show(tmp_path, **values):
    done = run(tmp_path, ["-c", SHOW], **values)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def production(**values):
    return {
        "ENVIRONMENT": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SITE_URL": "https://cg.example.org",
        "ALLOWED_HOSTS": "cg.example.org",
        **values,
    }


def test_defaults_are_the_embedded_mode(tmp_path):
    s = checked_show(tmp_path)
    var = tmp_path / "var"
    assert s["engine"] == "django.db.backends.sqlite3" and s["name"] == str(var / "commonground.sqlite3")
    # Web, worker and beat share the file: WAL, immediate transactions and a busy timeout.
    assert s["options"]["transaction_mode"] == "IMMEDIATE" and s["options"]["timeout"] >= 20
    assert "journal_mode=WAL" in s["options"]["init_command"] and s["conn_max_age"] == 0
    assert s["broker"] == "filesystem://"
    assert s["broker_options"]["data_folder_in"] == s["broker_options"]["data_folder_out"] == str(var / "broker")
    assert s["cache"] == "core.cache.DatabaseCache"
    # DEBUG off unless asked for, `make run` included (debug pages list every URL and setting).
    assert s["debug"] is False and s["time_zone"] == "America/Chicago" and s["languages"] == ["en", "es"]
    assert s["email"] == "config.mail.MaskedConsoleEmailBackend"  # the console is a log: addresses masked
    assert s["static_root"] == str(var / "static") and s["media_root"] == str(var / "media")
    assert (var / "broker").is_dir()


def test_full_mode_comes_from_the_environment(tmp_path):
    s = checked_show(
        tmp_path,
        DATABASE_URL="postgres://cg:pw@db.internal:5432/commonground",
        CELERY_BROKER_URL="redis://broker.internal:6379/2",
        TIME_ZONE="America/New_York",
        DEBUG="0",
        EMAIL_HOST="smtp.example.org",
        ALLOWED_HOSTS="cg.example.org, www.cg.example.org",
        DB_CONN_MAX_AGE="120",
    )
    assert s["engine"] == "django.db.backends.postgresql"
    assert (s["name"], s["host"], s["conn_max_age"]) == ("commonground", "db.internal", 120)
    assert s["broker"] == "redis://broker.internal:6379/2"
    assert s["cache"] == "core.cache.FailoverCache"
    assert s["debug"] is False and s["time_zone"] == "America/New_York"
    assert s["email"] == "django.core.mail.backends.smtp.EmailBackend"
    assert s["allowed_hosts"] == ["cg.example.org", "www.cg.example.org"]


def test_production_passes_check_deploy_with_no_warning(tmp_path):
    done = run(tmp_path, ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **production())
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues (0 silenced)." in done.stdout
    assert "WARNING" not in done.stdout + done.stderr
    s = checked_show(tmp_path, **production())
    assert s["debug"] is False and s["secure"] == [True, True, True, 31536000]
    assert s["allowed_hosts"] == ["cg.example.org"]


def test_the_embedded_database_passes_its_checks_with_no_warning(tmp_path):
    """``make run`` migrates SQLite, and migrate runs the checks that know the database: an index
    feature SQLite lacks (``INCLUDE``, a partial or expression index) would print a warning on every
    start of the embedded mode."""
    done = run(tmp_path, ["manage.py", "check", "--database", "default", "--fail-level", "WARNING"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues (0 silenced)." in done.stdout
    assert "WARNING" not in done.stdout + done.stderr


@pytest.mark.parametrize(
    "values,warning",
    [
        ({"SECRET_KEY": "short-and-guessable"}, "security.W009"),
        ({"DEBUG": "1"}, "security.W018"),
        ({"ALLOWED_HOSTS": ""}, "security.W020"),
        ({"SECURE_SSL_REDIRECT": "0"}, "security.W008"),
    ],
)
def test_check_deploy_catches_a_weakened_production_environment(tmp_path, values, warning):
    env = production()
    env.update(values)
    done = run(tmp_path, ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **env)
    assert done.returncode != 0
    assert warning in done.stdout + done.stderr


def test_production_refuses_to_start_without_secret_key(tmp_path):
    for args in (["manage.py", "check"], ["-c", "import config.wsgi"]):
        done = run(tmp_path, args, **production(SECRET_KEY=None))
        assert done.returncode != 0
        assert "ImproperlyConfigured: SECRET_KEY must be set when ENVIRONMENT=production." in done.stderr


def test_production_refuses_to_start_without_its_public_address(tmp_path):
    """Residents' emails carry absolute links: production needs SITE_URL, a full address. The
    system check stops ``check`` and ``migrate``; the image's build step, collectstatic under
    production settings, needs no address."""
    for site in (None, "cg.example.org"):
        for args in (["manage.py", "check"], ["manage.py", "migrate", "--plan"]):
            done = run(tmp_path, args, **production(SITE_URL=site))
            assert done.returncode != 0
            assert "(core.E001) SITE_URL must be set when ENVIRONMENT=production" in done.stdout + done.stderr
    built = run(tmp_path, ["manage.py", "collectstatic", "--noinput"], **production(SITE_URL=None))
    assert built.returncode == 0, built.stderr


def test_every_environment_variable_is_documented_in_the_readme():
    source = (ROOT / "config" / "settings.py").read_text(encoding="utf-8")
    names = set(re.findall(r"env(?:_bool|_list|_int)?\(\s*\"([A-Z_0-9]+)\"", source))
    assert {"DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "TIME_ZONE"} <= names
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = "\n".join(line for line in readme.splitlines() if line.startswith("| `"))
    assert sorted(name for name in names if f"`{name}`" not in table) == []


WRITER = """
import os, time, django
django.setup()
from django.db import connection, transaction
if os.environ.get("FORCE_DEFERRED"):  # the control: SQLite's default transaction mode
    connection.settings_dict["OPTIONS"]["transaction_mode"] = "DEFERRED"
# A barrier: each writer says it is ready, then all go once every one is (however long
# each took to start: on a busy machine imports alone can take seconds).
ready = os.environ["READY_DIR"]
open(os.path.join(ready, str(os.getpid())), "w").close()
deadline = time.time() + 60
while len(os.listdir(ready)) < int(os.environ["WRITERS"]) and time.time() < deadline:
    time.sleep(0.005)
started = time.time()
for _ in range(60):
    with transaction.atomic():  # read, then write: what every service does
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM lockprobe")
            seen = cursor.fetchone()[0]
            time.sleep(0.002)
            cursor.execute("INSERT INTO lockprobe (n) VALUES (%s)", [seen])
print(started, time.time())
"""


def checked_concurrent_writers(tmp_path, count=4, **values):
    """``count`` processes on one embedded SQLite file, released together once all have started."""
    setup = run(
        tmp_path,
        [
            "-c",
            "import django; django.setup(); from django.db import connection; "
            "connection.cursor().execute('CREATE TABLE lockprobe (id INTEGER PRIMARY KEY, n INTEGER)')",
        ],
    )
    assert setup.returncode == 0, setup.stderr
    ready = tmp_path / "ready"
    ready.mkdir()
    env = clean_env(
        tmp_path, DJANGO_SETTINGS_MODULE="config.settings", READY_DIR=str(ready), WRITERS=str(count), **values
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(count)
    ]
    return [(proc.wait(timeout=120), *proc.communicate()) for proc in procs]


@pytest.mark.slow
def test_embedded_sqlite_writers_wait_instead_of_failing_with_database_is_locked(tmp_path):
    """Web, worker and beat write to one file. With the embedded settings (WAL, immediate
    transactions, a busy timeout) concurrent read-then-write transactions queue up; with
    SQLite's default deferred transactions the same load fails with "database is locked"."""
    results = checked_concurrent_writers(tmp_path)
    assert [code for code, _, _ in results] == [0, 0, 0, 0], [err[-500:] for _, _, err in results]
    spans = [tuple(map(float, out.split())) for _, out, _ in results]
    assert max(start for start, _ in spans) < min(end for _, end in spans), "the writers really overlapped"
    count = run(
        tmp_path,
        [
            "-c",
            "import django; django.setup(); from django.db import connection; "
            "c = connection.cursor(); c.execute('SELECT COUNT(*) FROM lockprobe'); print(c.fetchone()[0])",
        ],
    )
    assert count.stdout.strip() == "240"

    control = checked_concurrent_writers(tmp_path / "control", FORCE_DEFERRED="1")
    assert any("database is locked" in err for _, _, err in control)


def test_the_web_entry_point_loads_the_url_map_and_freezes_what_it_loaded(tmp_path):
    """config.wsgi: the URL map is loaded at start, and what is loaded by then is out of the garbage
    collector's full collections (gc.freeze), which otherwise walk it every hundred-odd requests."""
    probe = (
        "import gc, sys; import config.wsgi; "
        "print(gc.get_freeze_count(), 'cases.web.staff.views' in sys.modules, 'cases.api.views' in sys.modules)"
    )
    done = run(tmp_path, ["-c", probe], **production())
    assert done.returncode == 0, done.stderr
    frozen, views, api = done.stdout.split()
    assert int(frozen) > 50_000 and views == api == "True"
