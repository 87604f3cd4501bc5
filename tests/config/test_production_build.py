"""The production build, as the Dockerfile runs it, and the stack as docker-compose.yml starts it.

Docker cannot run on our machines; this is how we know the image would work: the
Dockerfile's steps run in a clean copy of the build context (collectstatic under
ENVIRONMENT=production included), then migrate, gunicorn with compose's command line,
a Celery worker and beat start from that copy with compose's environment, against
PostgreSQL and a Redis of the test's own (tests/stack.py). Every page is crawled as
each role in English and Spanish.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from tests.crawl import HASHED, Crawler, url_map_routes
from tests.stack import SKIPPED_COMMANDS

pytestmark = [pytest.mark.slow]

DEMO_PASSWORD = "commonground"
ROLES = [None, "officer", "supervisor", "admin"]


def test_the_image_builds_as_the_dockerfile_says(production_stack):
    build = production_stack.build
    assert build.base_image == "python:3.11-slim"
    assert build.user == "app", "the app does not run as root"
    assert build.cmd[0] == "gunicorn" and "config.wsgi:application" in build.cmd
    assert any(step.startswith("pip install -r requirements.txt") for step in build.ran)
    assert any("manage.py collectstatic --noinput" in step for step in build.ran)
    assert {step.split()[0] for step in build.skipped} <= SKIPPED_COMMANDS
    static_root = Path(build.env["STATIC_ROOT"])
    manifest = json.loads((static_root / "staticfiles.json").read_text())
    names = manifest["paths"]
    # The vendored libraries and our own files, each under a content hash (whitenoise serves them forever-cached).
    for name in ("vendor/leaflet/leaflet.js", "vendor/chartjs/chart.umd.min.js", "css/app.css", "js/dashboard.js"):
        assert HASHED.search(names[name]), names[name]
    assert not (build.dest / ".git").exists() and not (build.dest / ".venv").exists()


def test_worker_and_beat_run_the_schedule(production_stack):
    deadline = time.monotonic() + 90
    body = {}
    while time.monotonic() < deadline:
        body = production_stack.get("/healthz").json()
        if body.get("last_sweep"):
            break
        time.sleep(1)
    assert body.get("last_sweep"), f"no sweep went beat → Redis → worker → database: {body}"
    assert body["database"]["vendor"] == "postgresql" and body["broker"]["transport"] == "redis"


def test_production_settings_are_in_force(production_stack):
    home = production_stack.get("/")
    assert home.status_code == 200
    assert "max-age=31536000" in home.headers["Strict-Transport-Security"]
    assert "csrftoken" not in home.headers.get("Set-Cookie", "") or "Secure" in home.headers["Set-Cookie"]
    # Plain HTTP (no TLS proxy header) is sent to HTTPS; an unknown host is refused.
    import requests

    plain = requests.get(
        production_stack.base_url + "/", headers={"Host": production_stack.HOST}, allow_redirects=False, timeout=10
    )
    assert plain.status_code == 301 and plain.headers["Location"].startswith("https://")
    stranger = requests.get(
        production_stack.base_url + "/", headers={"Host": "evil.example", "X-Forwarded-Proto": "https"}, timeout=10
    )
    assert stranger.status_code == 400
    # DEBUG is off: an unknown page is the project's 404, not Django's list of URL patterns.
    missing = production_stack.get("/no-such-page/")
    assert missing.status_code == 404 and "URLconf" not in missing.text


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("role", ROLES, ids=lambda role: role or "anonymous")
def test_every_page_answers_below_500_with_hashed_static_files(production_stack, role, language):
    # English visits two URLs of each route, Spanish one: the same routes, another language.
    per_route = 2 if language == "en" else 1
    crawler = Crawler(
        production_stack.base_url, headers=production_stack.headers, language=language, per_route=per_route
    )
    if role:
        crawler.checked_login(role, DEMO_PASSWORD)
    result = crawler.crawl()
    assert not result.server_errors, "\n".join(f"{v.status} {v.url}" for v in result.server_errors) + (
        "\n" + production_stack.log_tail("web")
    )
    # Reached every route of the URL map without parameters, and pages behind links.
    assert len(result.visits) >= len(url_map_routes()) // 2
    statuses = result.statuses()
    if role in ("supervisor", "admin"):
        assert statuses.get(200, 0) >= 40, statuses
        routes = result.routes()
        assert any("issues/<int:pk>/" in route for route in routes), "an issue page was reached through a link"
    if role == "admin":
        assert any(route.endswith("admin/cases/issue/") or "cases/issue" in route for route in result.routes())
    assert result.assets, "pages reference static files"
    unserved = {path: status for path, status in result.assets.items() if status != 200}
    assert not unserved, unserved
    unhashed = [path for path in result.assets if not HASHED.search(path)]
    assert not unhashed, unhashed


def test_spanish_public_pages_say_so(production_stack):
    for path in ("/es/", "/es/report/", "/es/transparency/"):
        page = production_stack.get(path)
        assert page.status_code == 200, path
        assert re.search(r'<html[^>]* lang="es"', page.text), path


def test_request_logs_hold_no_query_strings_or_client_addresses(production_stack):
    """Staff search for a resident by e-mail or phone; the access log keeps only method, path, status."""
    crawler = Crawler(
        production_stack.base_url, headers={**production_stack.headers, "X-Forwarded-For": "203.0.113.77"}
    )
    crawler.checked_login("supervisor", DEMO_PASSWORD)
    for path in ("/issues/?q=rosa.resident%40example.org", "/api/v1/issues/?q=816-555-0142"):
        assert crawler.request("GET", production_stack.base_url + path).status_code == 200
    time.sleep(0.5)  # gunicorn writes its access log line after the answer
    log = (production_stack.logs / "web.log").read_text(errors="replace")
    assert '"GET /issues/" 200' in log and '"GET /api/v1/issues/" 200' in log
    for secret in ("rosa.resident", "816-555-0142", "203.0.113.77", "?q="):
        assert secret not in log, secret
    # The image's default command logs the same way as compose's web service.
    build = production_stack.build
    web = production_stack.argv("web")
    assert build.cmd[build.cmd.index("--access-logformat") + 1] in [
        word.split("=", 1)[1] for word in web if word.startswith("--access-logformat=")
    ]
