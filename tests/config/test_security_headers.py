"""Security headers on every kind of answer, no inline code anywhere, and Retry-After on every 429.

The Content-Security-Policy allows scripts and styles from this site only: no
'unsafe-inline', no 'unsafe-eval'. So no template and no rendered page may hold an
inline <script> (json_script data excepted: the browser does not run it), an
``on…=`` handler, a ``javascript:`` URL, a <style> element or a style attribute.
Chromium itself checks the pages in tests/browser/test_csp.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured
from django.urls import NoReverseMatch, reverse

from accounts import views as accounts
from cases.services import issue_resolve, issue_submit
from config.security import PERMISSIONS_POLICY, tile_source
from core.ratelimit import rate_limit_retry_after
from tests import factories
from tests.api.conftest import token_client
from tests.cases.open311.test_open311_support import BASE as OPEN311
from tests.cases.open311.test_open311_support import seed_services
from tests.cases.web.public.public_helpers import CENTER_LAT, CENTER_LNG, center_neighborhood, form_data, graffiti

ROOT = Path(settings.BASE_DIR)
PASSWORD = "pw-Secret-123"
# 2026-05-01 17:59:00 UTC: one minute before an hourly window ends (windows are slices of the epoch).
ONE_MINUTE_TO_THE_HOUR = datetime(2026, 5, 1, 17, 59, 0, tzinfo=UTC)


def policy_of(response) -> dict[str, list[str]]:
    header = response.get("Content-Security-Policy", "")
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_security_headers(response, where):
    policy = policy_of(response)
    assert policy.get("script-src") == ["'self'"], (where, response.get("Content-Security-Policy"))
    assert policy.get("style-src") == ["'self'"], where
    assert policy.get("default-src") == ["'self'"], where
    assert policy.get("object-src") == ["'none'"], where
    assert policy.get("frame-ancestors") == ["'none'"], where
    assert policy.get("base-uri") == ["'self'"] and policy.get("form-action") == ["'self'"], where
    header = response["Content-Security-Policy"]
    assert "unsafe-inline" not in header and "unsafe-eval" not in header, where
    permissions = response.get("Permissions-Policy", "")
    assert "camera=()" in permissions and "microphone=()" in permissions and "payment=()" in permissions, where
    assert "geolocation=(self)" in permissions, where


class InlineCode(HTMLParser):
    """Collects everything in a document that a script-src/style-src 'self' policy would refuse."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            if name.startswith("on") or name.startswith(("hx-on", "data-hx-on")) or name in ("hx-vars", "style"):
                self.found.append(f"<{tag} {name}=…>")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.found.append(f"<{tag} {name}={value!r}>")
        if tag == "style":
            self.found.append("<style> element")
        if tag == "script" and not attributes.get("src") and attributes.get("type") != "application/json":
            self.found.append(f"inline <script {attributes}>")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    parser.close()
    return parser.found


# --- the policy itself ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "source"),
    [
        ("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png", "https://*.tile.openstreetmap.org"),
        ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"),
        ("https://tiles{s}.example.org:8443/{z}/{x}/{y}.png", "https://*.example.org:8443"),
        ("https://a.{s}.maps.example.org/{z}/{x}/{y}.png?key=abc", "https://*.maps.example.org"),
        ("http://127.0.0.1:8080/tiles/{z}/{x}/{y}.png", "http://127.0.0.1:8080"),
        ("/tiles/{z}/{x}/{y}.png", None),
        ("", None),
    ],
)
def test_tile_source_is_the_tile_hosts_origin(template, source):
    assert tile_source(template) == source


@pytest.mark.parametrize("template", ["ftp://tiles.example.org/{z}.png", "https://tiles.{tld}/{z}.png"])
def test_tile_source_refuses_what_no_source_expression_can_say(template):
    with pytest.raises(ImproperlyConfigured):
        tile_source(template)


SHOW_POLICY = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({"csp": s.CONTENT_SECURITY_POLICY, "middleware": s.MIDDLEWARE}))
"""


def _settings_in(tmp_path, **values):
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "VAR_DIR": str(tmp_path / "var")}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", **values)
    out = subprocess.run(
        [sys.executable, "-c", SHOW_POLICY], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(out.stdout)


def test_one_policy_in_every_mode(tmp_path):
    embedded = _settings_in(tmp_path)
    production = _settings_in(
        tmp_path,
        ENVIRONMENT="production",
        SECRET_KEY="x" * 50,
        SITE_URL="https://cg.example.org",
        ALLOWED_HOSTS="cg.example.org",
    )
    tests = _settings_in(tmp_path, ENVIRONMENT="test", DEBUG="0")
    assert embedded["csp"] == production["csp"] == tests["csp"]
    for mode in (embedded, production, tests):
        assert "csp.middleware.CSPMiddleware" in mode["middleware"]
        assert "config.security.PermissionsPolicyMiddleware" in mode["middleware"]
    assert embedded["csp"]["DIRECTIVES"]["img-src"] == ["'self'", "data:", "blob:"]
    # With tiles configured, their host (and only it) joins img-src.
    tiled = _settings_in(
        tmp_path,
        ENVIRONMENT="production",
        SECRET_KEY="x" * 50,
        SITE_URL="https://cg.example.org",
        MAP_TILE_URL="https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png",
    )
    assert tiled["csp"]["DIRECTIVES"]["img-src"] == ["'self'", "data:", "blob:", "https://*.tile.openstreetmap.org"]
    assert {k: v for k, v in tiled["csp"]["DIRECTIVES"].items() if k != "img-src"} == {
        k: v for k, v in embedded["csp"]["DIRECTIVES"].items() if k != "img-src"
    }


def test_permissions_policy_denies_what_the_app_does_not_use():
    assert PERMISSIONS_POLICY["geolocation"] == "(self)"  # the resident form's "use my location"
    denied = {feature for feature, allow in PERMISSIONS_POLICY.items() if allow == "()"}
    assert {"camera", "microphone", "payment", "usb", "browsing-topics", "interest-cohort"} <= denied
    assert set(PERMISSIONS_POLICY) - denied == {"geolocation"}


# --- every kind of page carries the headers, and no page holds inline code --------------


@pytest.fixture
def city(db):
    place = center_neighborhood(district="Central")
    category = graffiti()
    report = issue_submit(category=category, text="Tags on the laundromat wall", lat=CENTER_LAT, lng=CENTER_LNG)
    factories.ActivityFactory(neighborhood=place)
    partner = factories.PartnerFactory(name="Guadalupe Centers")
    problem = factories.ProblemFactory(neighborhood=place, category=category)
    chief = factories.supervisor(username="chief", districts=["Central"], neighborhoods=[place])
    return {"place": place, "issue": report.issue, "partner": partner, "problem": problem, "chief": chief}


def _checked_get(client, path, **extra):
    response = client.get(path, **extra)
    assert response.status_code < 500, (path, response.status_code)
    return response


def _check(response, path):
    assert_security_headers(response, path)
    if response.get("Content-Type", "").startswith("text/html"):
        assert inline_code(response.content.decode()) == [], path


def test_public_pages_api_open311_and_healthz(client, city):
    code = city["issue"].tracking_code
    paths = [
        "/",
        "/report/",
        "/es/report/",
        f"/report/{code}/",
        f"/es/report/{code}/",
        "/report/lookup/?code=CG-NONE-NONE",
        "/transparency/",
        "/es/transparency/",
        "/accounts/login/",
        "/api/schema/",
        "/api/docs/",
        "/api/docs/?script=",
        "/api/v1/issues/",  # 401 in the API's error shape
        "/api/v1/no-such-thing/",
        f"{OPEN311}/discovery.json",
        f"{OPEN311}/services.xml",
        f"{OPEN311}/requests.json",
        "/healthz",
        "/no-such-page/",
    ]
    for path in paths:
        _check(_checked_get(client, path), path)


def test_swagger_ui_start_up_script_is_served_as_a_script(client):
    page = _checked_get(client, "/api/docs/").content.decode()
    assert re.search(r'<script src="/api/docs/\?script="?', page)
    script = _checked_get(client, "/api/docs/?script=")
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in script.content.decode()


def test_staff_pages_and_api(client, city):
    client.force_login(city["chief"])
    paths = [
        "/queue/",
        "/issues/",
        f"/issues/{city['issue'].pk}/",
        "/outreach/",
        "/outreach/new/",
        "/partners/",
        f"/partners/{city['partner'].pk}/",
        "/neighborhoods/",
        f"/neighborhoods/{city['place'].slug}/",
        "/dashboard/",
        "/problems/",
        f"/problems/{city['problem'].pk}/",
        "/notifications/",
        "/api/v1/issues/",
        "/api/v1/stats/",
    ]
    for path in paths:
        response = _checked_get(client, path)
        assert response.status_code == 200, path
        _check(response, path)
    token = token_client(city["chief"]).get("/api/v1/neighborhoods/")
    assert token.status_code == 200
    _check(token, "/api/v1/neighborhoods/ (token)")


def test_every_admin_change_list_and_form(client, city):
    root = factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    checked = 0
    for path in ["/admin/", "/admin/cases/issue/?q=graffiti", f"/admin/cases/issue/{city['issue'].pk}/change/"]:
        _check(_checked_get(client, path), path)
    for model in admin.site._registry:
        for view in ("changelist", "add"):
            try:
                path = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}")
            except NoReverseMatch:
                continue
            response = _checked_get(client, path)
            _check(response, path)
            checked += response.status_code == 200
    assert checked >= len(admin.site._registry)


def test_the_checker_finds_inline_code():
    found = inline_code(
        '<script>alert(1)</script><script type="application/json">{}</script><script src="/s.js"></script>'
        '<a href="javascript:go()">x</a><button onclick="go()">y</button><p style="color:red">z</p>'
        '<style>p{}</style><div hx-on:click="go()"></div>'
    )
    assert len(found) == 6, found


def _project_files(pattern):
    skip = {".venv", "var", ".git", "test-artifacts", "node_modules", "tests"}
    for path in ROOT.rglob(pattern):
        if not skip.intersection(path.relative_to(ROOT).parts):
            yield path


# Django template comments are not output; what they mention is not in any page.
TEMPLATE_COMMENT = re.compile(r"\{#.*?#\}|\{% comment %\}.*?\{% endcomment %\}", re.S)


def test_no_template_holds_inline_code():
    templates = list(_project_files("*.html"))
    assert len(templates) > 40
    found = {str(path.relative_to(ROOT)): inline_code(TEMPLATE_COMMENT.sub("", path.read_text())) for path in templates}
    assert {path: what for path, what in found.items() if what} == {}


def test_no_python_module_writes_an_inline_script_or_style():
    pattern = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)|<style\b|\sstyle=\\?[\"']", re.I)
    offenders = [str(path.relative_to(ROOT)) for path in _project_files("*.py") if pattern.search(path.read_text())]
    assert offenders == []


# --- Retry-After on every 429 ------------------------------------------------------------


def test_retry_after_counts_to_the_end_of_the_window():
    now = ONE_MINUTE_TO_THE_HOUR.timestamp()
    assert rate_limit_retry_after(rate="10/h", now=now) == 60
    assert rate_limit_retry_after(rate="10/h", now=now + 59.2) == 1
    assert rate_limit_retry_after(rate="10/h", now=now + 60) == 3600  # a new window has begun
    assert rate_limit_retry_after(rate="5/15min", now=now) == 60


@time_machine.travel(ONE_MINUTE_TO_THE_HOUR, tick=False)
def test_resident_form_429_says_when_to_retry(client, settings, db):
    settings.REPORT_RATE_LIMIT = "1/h"
    center_neighborhood()
    category = graffiti()
    assert client.post("/report/", form_data(category, same_issue="new")).status_code == 302
    response = client.post("/es/report/", form_data(category, same_issue="new"))
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    assert_security_headers(response, "429")
    # Refused before the form is read at all (already over the limit): the same header.
    response = client.post("/report/", {"category": str(category.pk)})
    assert response.status_code == 429 and response["Retry-After"] == "60"


@time_machine.travel(ONE_MINUTE_TO_THE_HOUR, tick=False)
def test_feedback_429_says_when_to_retry(client, settings, db):
    settings.REPORT_RATE_LIMIT = "1/h"
    place = center_neighborhood()
    cop = factories.officer(neighborhoods=[place])
    issue = issue_submit(category=graffiti(), text="Tags", lat=CENTER_LAT, lng=CENTER_LNG).issue
    issue = issue_resolve(issue=issue, actor=cop, note="Painted over.")
    answer = {"fixed": "yes", "satisfaction": "4"}
    assert client.post(f"/report/{issue.tracking_code}/", answer).status_code == 302
    response = client.post(f"/report/{issue.tracking_code}/", answer)
    assert response.status_code == 429
    assert response["Retry-After"] == "60"


def test_sign_in_lockout_429_says_how_long_the_lock_lasts(client, settings, db):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_LOCKOUT_SECONDS = 600
    officer = factories.officer(username="ofc.lee")
    start = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        for _ in range(2):
            response = client.post("/accounts/login/", {"username": "ofc.lee", "password": "wrong"})
            assert response.status_code == 200 and "Retry-After" not in response
        locking = client.post("/accounts/login/", {"username": "ofc.lee", "password": "wrong"})
        assert locking.status_code == 429
        assert locking["Retry-After"] == "600"
    with time_machine.travel(start.replace(minute=4), tick=False):
        # Even the right password is refused while locked, and the header counts down.
        locked = client.post("/accounts/login/", {"username": officer.username, "password": PASSWORD})
        assert locked.status_code == 429
        assert locked["Retry-After"] == "360"
        assert accounts.lock_remaining_seconds(officer.username, "127.0.0.1") == 360


def test_api_throttle_429_carries_retry_after_matching_the_body(settings, db):
    officer = factories.officer()
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "user": "2/min"},
    }
    client = token_client(officer)
    for _ in range(2):
        assert client.get("/api/v1/categories/").status_code == 200
    response = client.get("/api/v1/categories/")
    assert response.status_code == 429
    assert int(response["Retry-After"]) == response.json()["error"]["retry_after"] >= 1
    assert_security_headers(response, "API 429")

    # The budget lowered below what is already on record: DRF alone would answer without the header.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "user": "1/min"},
    }
    response = client.get("/api/v1/categories/")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert int(response["Retry-After"]) == response.json()["error"]["retry_after"]


@time_machine.travel(datetime(2026, 5, 1, 17, 0, 5, tzinfo=UTC), tick=False)
def test_open311_429_carries_retry_after(client, settings, db):
    seed_services()
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"user": "9/min", "anon": "2/min"}}
    for _ in range(2):
        assert client.get(f"{OPEN311}/services.json").status_code == 200
    response = client.get(f"{OPEN311}/services.json")
    assert response.status_code == 429
    assert response["Retry-After"] == "55"
    assert_security_headers(response, "Open311 429")
