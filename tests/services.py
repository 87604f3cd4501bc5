"""Loaded before Django (pytest -p): the suite runs against real PostgreSQL and Redis.

Defaults match the development machines (127.0.0.1, trust auth); override with
TEST_DATABASE_URL / TEST_REDIS_URL. An unreachable service stops the run with
a message that says how to start it; nothing is skipped silently.
"""

import os
import socket
from urllib.parse import urlparse

import pytest

DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/commonground")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

# Under pytest-xdist (`make test` runs `-n 2`) each worker is a process of its own, gw0, gw1, ...
# pytest-django already gives each worker its own test database (test_<name>_gw0, ...); the
# rest of what a test may clear or fill is made per worker here: the Redis database (the
# broker, and the cache that every test clears) is the given one plus the worker's number,
# and VAR_DIR (MEDIA_ROOT, the stash, the file broker, ...) gets a folder per worker.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def worker_redis_url(url: str, worker: str) -> str:
    """``redis://host:port/<n>`` → ``/<n + worker number>`` for worker ``gw<number>``."""
    if not worker.startswith("gw"):
        return url
    parsed = urlparse(url)
    base = int(parsed.path.strip("/") or 0)
    return parsed._replace(path=f"/{base + int(worker[2:])}").geturl()


REDIS_URL = worker_redis_url(REDIS_URL, WORKER)

os.environ["DATABASE_URL"] = DATABASE_URL
os.environ["CELERY_BROKER_URL"] = REDIS_URL
os.environ.setdefault("ENVIRONMENT", "test")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-9b3f2c1d7e")
os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
# Rate limits in tests are exercised explicitly; keep them out of other tests' way.
os.environ.setdefault("REPORT_RATE_LIMIT", "1000/h")
os.environ.setdefault("API_THROTTLE_ANON", "100000/min")
os.environ.setdefault("API_THROTTLE_USER", "100000/min")
os.environ.setdefault("VAR_DIR", os.path.join(os.getcwd(), "var", "test"))
if WORKER:
    os.environ["VAR_DIR"] = os.path.join(os.environ["VAR_DIR"], WORKER)

HOW_TO_START = {
    "PostgreSQL": "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    "Redis": "redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no",
}


def _reachable(url, default_port):
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=3):
            return True
    except OSError:
        return False


def pytest_configure(config):
    missing = []
    if not _reachable(DATABASE_URL, 5432):
        missing.append(("PostgreSQL", DATABASE_URL))
    if not _reachable(REDIS_URL, 6379):
        missing.append(("Redis", REDIS_URL))
    if missing:
        lines = [f"{name} is not reachable at {url}. Start it with:\n    {HOW_TO_START[name]}" for name, url in missing]
        pytest.exit("The test suite needs real services.\n" + "\n".join(lines), returncode=3)
