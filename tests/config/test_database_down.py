"""PostgreSQL refusing connections: every page and endpoint answers 503 in its own shape,
and the app recovers by itself when the database is back (config/errors.py).

The refusals are real: the app reaches the test database through a TCP proxy
(tests/dbproxy.py) that the test switches to refuse (ECONNREFUSED), to cut open
connections, or to accept again. The first tests run in this process (both hooks:
errors raised in views, and in middleware); the last ones start gunicorn with
the image's gunicorn as docker-compose.yml does (tests/stack.py), in front of the same proxy.
"""

from __future__ import annotations

import concurrent.futures
import http.client
import json
import os
import re
import time
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.signals import got_request_exception
from django.db import IntegrityError, ProgrammingError, connection
from django.test import Client
from rest_framework.authtoken.models import Token

from cases.models import Issue
from core.outages import RETRY_AFTER_SECONDS, database_unavailable
from tests.cases.web.public.public_helpers import center_neighborhood, graffiti
from tests.dbproxy import DbProxy
from tests.factories import ApiClientFactory, IssueFactory, UserFactory, officer
from tests.redis_server import free_port
from tests.stack import ComposeStack

HEADINGS = {"en": "This service is temporarily unavailable", "es": "Este servicio no está disponible temporalmente"}


# --- checking an answer's shape ---------------------------------------------------------


def assert_html_503(status, headers, body, lang):
    assert status == 503, body[:300]
    assert headers.get("retry-after") == str(RETRY_AFTER_SECONDS)
    assert "no-store" in headers.get("cache-control", "")
    html = body.decode()
    assert re.search(r'<html lang="([^"]+)"', html).group(1) == lang
    # Both languages on the page, each marked as such, the page's own first.
    other = "es" if lang == "en" else "en"
    assert f'<section class="card narrow error-card" lang="{lang}">' in html
    assert f'<section class="card narrow error-card" lang="{other}">' in html
    assert html.index(HEADINGS[lang]) < html.index(HEADINGS[other])
    assert html.index(f'lang="{lang}"', html.index("<main")) < html.index(f'lang="{other}"', html.index("<main"))
    assert "<script" not in html and "style=" not in html


def assert_api_503(status, headers, body):
    assert status == 503, body[:300]
    assert headers.get("retry-after") == str(RETRY_AFTER_SECONDS)
    assert headers.get("content-type", "").startswith("application/json")
    error = json.loads(body)["error"]
    assert error["code"] == "unavailable" and error["fields"] == {} and error["message"]
    assert error["retry_after"] == RETRY_AFTER_SECONDS


def assert_open311_503(status, headers, body, fmt):
    assert status == 503, body[:300]
    assert headers.get("retry-after") == str(RETRY_AFTER_SECONDS)
    if fmt == "xml":
        assert headers.get("content-type", "").startswith("text/xml")
        root = ElementTree.fromstring(body)  # noqa: S314 (our own answer)
        assert root.tag == "errors" and root.findtext("error/code") == "503" and root.findtext("error/description")
    else:
        assert headers.get("content-type", "").startswith("application/json")
        errors = json.loads(body)
        assert len(errors) == 1 and errors[0]["code"] == 503 and errors[0]["description"]


def assert_home_without_database(status, headers, body):
    assert status == 200, body[:300]
    assert b'href="/report/"' in body or b'href="/es/report/"' in body
    return True


def assert_transparency_from_cache(status, headers, body):
    """Its figures are cached for a few minutes (insights.views.transparency): shown while warm."""
    assert status == 200, body[:300]
    assert b'<html lang="en">' in body and b"/transparency/" in body
    return True


def of(response):
    """A test client response as (status, lower-case headers, body)."""
    return response.status_code, {k.lower(): v for k, v in response.headers.items()}, response.content


# --- in this process ----------------------------------------------------------------------


@pytest.fixture
def db_proxy(transactional_db):
    """This process's database connection goes through a proxy the test can switch."""
    proxy = DbProxy(connection.settings_dict["HOST"] or "127.0.0.1", int(connection.settings_dict["PORT"] or 5432))
    proxy.accept()
    saved = {key: connection.settings_dict[key] for key in ("HOST", "PORT")}
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT=str(proxy.port))
    try:
        yield proxy
    finally:
        proxy.stop()
        connection.close()
        connection.settings_dict.update(saved)


@pytest.fixture
def world():
    place = center_neighborhood()
    category = graffiti()
    issue = IssueFactory(neighborhood=place, category=category)
    staff = officer(neighborhoods=[place])
    return {"place": place, "category": category, "issue": issue, "officer": staff}


@pytest.fixture
def exceptions_sent():
    """Requests whose exception went through Django's handler (handler500), not a view hook."""
    sent = []

    def receiver(sender, request=None, **kwargs):
        sent.append(request.path if request is not None else None)

    got_request_exception.connect(receiver)
    yield sent
    got_request_exception.disconnect(receiver)


def test_view_errors_answer_503_in_each_shape(db_proxy, world):
    staff = Client(raise_request_exception=False)
    staff.force_login(world["officer"])
    token = Token.objects.create(user=world["officer"]).key
    api_key = ApiClientFactory().key
    code = world["issue"].tracking_code
    anon = Client(raise_request_exception=False)

    db_proxy.refuse()
    # The home page needs no database for a resident: it keeps answering, and links to the rest.
    for path in ("/", "/es/"):
        assert assert_home_without_database(*of(anon.get(path)))
    assert_html_503(*of(staff.get("/")), "en")  # signed in, the page reads the user
    for path, lang in [
        ("/report/", "en"),
        ("/es/report/", "es"),
        (f"/report/{code}/", "en"),
        (f"/es/report/{code}/", "es"),
        ("/transparency/", "en"),
        ("/es/transparency/", "es"),
    ]:
        assert_html_503(*of(anon.get(path)), lang)
    assert_html_503(*of(staff.get("/queue/")), "en")  # the session and user lookups fail in the view
    assert_html_503(*of(staff.get("/admin/")), "en")
    assert_api_503(*of(anon.get("/api/v1/issues/", HTTP_AUTHORIZATION=f"Token {token}")))
    assert_open311_503(*of(anon.get("/open311/v2/services.json")), "json")
    assert_open311_503(*of(anon.get("/open311/v2/requests.xml")), "xml")
    posted = anon.post(
        "/open311/v2/requests.xml",
        urlencode({"api_key": api_key, "service_code": "graffiti", "lat": "39.0997", "long": "-94.5786"}),
        content_type="application/x-www-form-urlencoded",
    )
    assert_open311_503(*of(posted), "xml")
    health = anon.get("/healthz")
    assert health.status_code == 503 and health.json()["database"]["ok"] is False


def test_middleware_errors_answer_503_through_handler500(db_proxy, world, settings, exceptions_sent):
    """Lookups in middleware (here Django's LoginRequiredMiddleware reading the user) fail
    outside any view: Django hands them to handler500, which still answers 503."""
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "django.contrib.auth.middleware.LoginRequiredMiddleware"]
    staff = Client(raise_request_exception=False)
    staff.force_login(world["officer"])

    db_proxy.refuse()
    assert_html_503(*of(staff.get("/es/report/")), "es")
    assert_html_503(*of(staff.get("/queue/")), "en")
    assert_api_503(*of(staff.get("/api/v1/issues/")))
    assert_open311_503(*of(staff.get("/open311/v2/services.xml")), "xml")
    assert exceptions_sent == ["/es/report/", "/queue/", "/api/v1/issues/", "/open311/v2/services.xml"]


def test_csrf_failure_view_needing_the_database_answers_503(db_proxy, world, exceptions_sent):
    """The resident's form re-shown after a CSRF failure reads categories; with the database
    gone, that error is raised in the CSRF middleware, so handler500 answers."""
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    db_proxy.refuse()
    assert_html_503(*of(client.post("/report/", {"description": "streetlight out"})), "en")
    assert exceptions_sent == ["/report/"]


def test_connection_lost_mid_request_is_an_outage_too(db_proxy, world):
    """Open connections cut while the server stays down: the next query fails on a dead socket."""
    anon = Client(raise_request_exception=False)
    assert anon.get("/report/").status_code == 200  # the connection is open and kept
    db_proxy.refuse()
    assert_html_503(*of(anon.get("/report/")), "en")
    assert_html_503(*of(anon.get("/es/report/")), "es")  # now "connection already closed"


def test_what_counts_as_an_outage(db_proxy, world):
    """Real errors from the driver: connection refused, lost, or already closed are outages;
    a constraint violation or a bad query, from a database that answered, are not."""
    with pytest.raises(IntegrityError) as duplicate:
        User.objects.create(username=world["officer"].username)
    assert not database_unavailable(duplicate.value)
    with pytest.raises(ProgrammingError) as bad, connection.cursor() as cursor:
        cursor.execute("SELECT * FROM no_such_table_here")
    assert not database_unavailable(bad.value)
    assert not database_unavailable(RuntimeError("a bug")) and not database_unavailable(None)

    connection.close()
    assert Issue.objects.exists()
    db_proxy.cut()
    time.sleep(0.1)
    with pytest.raises(Exception) as lost:
        Issue.objects.exists()
    assert database_unavailable(lost.value), repr(lost.value)
    with pytest.raises(Exception) as closed:
        Issue.objects.exists()
    assert "closed" in str(closed.value) and database_unavailable(closed.value), repr(closed.value)

    db_proxy.refuse()
    connection.close()
    with pytest.raises(Exception) as refused:
        Issue.objects.exists()
    assert "refused" in str(refused.value) and database_unavailable(refused.value), repr(refused.value)


# --- gunicorn, production settings ---------------------------------------------------------------


class Server:
    """gunicorn as docker-compose.yml runs it, from the image's files (tests/stack.py), with the
    database reached through the proxy."""

    def __init__(self, stack: ComposeStack, proxy: DbProxy):
        self.stack = stack
        self.proxy = proxy
        self.port = stack.port

    @property
    def proc(self):
        return self.stack.processes["web"]

    def output(self):
        return self.stack.log_tail("web", 80)

    def request(self, method, path, *, headers=None, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            # Behind the TLS proxy, as in production (no redirect to https, secure cookies apply).
            all_headers = {"Host": f"127.0.0.1:{self.port}", "X-Forwarded-Proto": "https", **(headers or {})}
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            conn.close()


@pytest.fixture
def server(transactional_db, tmp_path, production_build):
    db = connection.settings_dict
    proxy = DbProxy(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432))
    proxy.accept()
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    stack = ComposeStack(
        production_build,
        database_url=f"postgres://{auth}@127.0.0.1:{proxy.port}/{db['NAME']}",
        redis_url=os.environ["CELERY_BROKER_URL"],
        port=free_port(),
        logs=tmp_path / "logs",
        # The same key as this process, so the sessions it creates are valid there.
        SECRET_KEY=settings.SECRET_KEY,
        # As in the rest of the suite: rate limits are not what this test is about.
        extra_env={k: os.environ[k] for k in ("REPORT_RATE_LIMIT", "API_THROTTLE_ANON", "API_THROTTLE_USER")},
    )
    try:
        stack.start("web")
        yield Server(stack, proxy)
    finally:
        stack.stop()
        proxy.stop()


def session_cookie(user):
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def checked_csrf_pair(app, path):
    """A CSRF cookie and the form's token, from a GET of the form (the cookie is not in the database)."""
    status, headers, body = app.request("GET", path)
    assert status == 200
    cookie = re.search(r"csrftoken=([^;]+)", headers["set-cookie"]).group(1)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    return cookie, token


def endpoints(app, world):
    """(name, method, path, headers, body, normal statuses, check of the 503)."""
    code = world["issue"].tracking_code
    staff = {"Cookie": session_cookie(world["officer"])}
    admin = {"Cookie": session_cookie(world["admin"])}
    token = {"Authorization": f"Token {world['token']}"}
    form = "application/x-www-form-urlencoded"
    open311_post = urlencode(
        {"api_key": world["api_key"], "service_code": "graffiti", "lat": "39.0997", "long": "-94.5786"}
    )
    cookie, csrf = checked_csrf_pair(app, "/report/")
    report = urlencode(
        {
            "csrfmiddlewaretoken": csrf,
            "category": world["category"].pk,
            "description": "Streetlight out on the corner",
            "neighborhood": world["place"].pk,
            "same_issue": "new",
        }
    )
    report_headers = {
        "Cookie": f"csrftoken={cookie}",
        "Content-Type": form,
        "Referer": f"https://127.0.0.1:{app.port}/report/",
    }
    return [
        ("home", "GET", "/", {}, None, {200}, assert_home_without_database),
        ("home signed in", "GET", "/", staff, None, {200}, lambda *a: assert_html_503(*a, "en")),
        ("form", "GET", "/report/", {}, None, {200}, lambda *a: assert_html_503(*a, "en")),
        ("form es", "GET", "/es/report/", {}, None, {200}, lambda *a: assert_html_503(*a, "es")),
        ("status", "GET", f"/report/{code}/", {}, None, {200}, lambda *a: assert_html_503(*a, "en")),
        ("status es", "GET", f"/es/report/{code}/", {}, None, {200}, lambda *a: assert_html_503(*a, "es")),
        ("transparency", "GET", "/transparency/", {}, None, {200}, assert_transparency_from_cache),
        ("queue", "GET", "/queue/", staff, None, {200}, lambda *a: assert_html_503(*a, "en")),
        ("admin", "GET", "/admin/", admin, None, {200}, lambda *a: assert_html_503(*a, "en")),
        ("report POST", "POST", "/report/", report_headers, report, {302}, lambda *a: assert_html_503(*a, "en")),
        # Without a token: the CSRF failure view re-shows the form, which reads the database.
        ("report POST, no token", "POST", "/report/", {"Content-Type": form}, "description=x", {403},
         lambda *a: assert_html_503(*a, "en")),
        ("api", "GET", "/api/v1/issues/", token, None, {200}, assert_api_503),
        ("open311 services", "GET", "/open311/v2/services.json", {}, None, {200},
         lambda *a: assert_open311_503(*a, "json")),
        ("open311 requests", "GET", "/open311/v2/requests.xml", {}, None, {200},
         lambda *a: assert_open311_503(*a, "xml")),
        ("open311 POST", "POST", "/open311/v2/requests.json", {"Content-Type": form}, open311_post, {201},
         lambda *a: assert_open311_503(*a, "json")),
    ]  # fmt: skip


@pytest.fixture
def live_world(world):
    world["admin"] = UserFactory(username="root", is_staff=True, is_superuser=True)
    world["token"] = Token.objects.create(user=world["officer"]).key
    world["api_key"] = ApiClientFactory().key
    return world


def answer_all(app, checks):
    return {
        name: app.request(method, path, headers=headers, body=body) for name, method, path, headers, body, *_ in checks
    }


@pytest.mark.slow
def test_gunicorn_answers_503_while_the_database_refuses_and_recovers(server, live_world):
    checks = endpoints(server, live_world)

    normal = answer_all(server, checks)
    for name, *_, expected, _check in checks:
        assert normal[name][0] in expected, (name, normal[name][0], normal[name][2][:300])

    server.proxy.refuse()
    statuses = []
    for _round in range(3):  # enough rounds for both workers to meet the outage
        answers = answer_all(server, checks)
        for name, *_, check in checks:
            statuses.append((name, answers[name][0]))
            try:
                check(*answers[name])
            except AssertionError as failure:
                raise AssertionError(f"{name}: {failure}\n{server.output()}") from failure
    # Nothing but 503, apart from the two pages that need no database (home; transparency
    # while its cached figures are fresh), which answer 200.
    served = {"home", "transparency"}
    assert {status for name, status in statuses if name not in served} == {503}, statuses
    assert {status for name, status in statuses if name in served} == {200}, statuses
    status, _headers, body = server.request("GET", "/healthz")
    assert status == 503 and json.loads(body)["database"]["ok"] is False

    # The database is back: every endpoint answers normally within seconds, no restart.
    server.proxy.accept()
    started = time.monotonic()
    recovered = {}
    while time.monotonic() - started < 10 and len(recovered) < len(checks):
        answers = answer_all(server, checks)
        for name, *_, expected, _check in checks:
            if answers[name][0] in expected:
                recovered.setdefault(name, round(time.monotonic() - started, 2))
        time.sleep(0.2)
    print("seconds from the database's return to each endpoint's first normal answer:", recovered)
    assert len(recovered) == len(checks), (recovered, server.output())
    assert max(recovered.values()) < 5, recovered
    assert server.proc.poll() is None  # the same processes


@pytest.mark.slow
def test_gunicorn_replaces_dropped_connections_before_using_them(server, live_world):
    """Connections cut while the database stays up (a restart, a firewall's idle timeout):
    the health check notices before a request uses them, so no request fails."""
    checks = [c for c in endpoints(server, live_world) if c[1] == "GET"]
    # Both workers must hold a kept connection. Requests one after another can all land on the
    # worker that happens to be waiting in accept(), so send them side by side: a busy sync
    # worker cannot accept, and the other one takes the next request.
    deadline = time.monotonic() + 20
    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        while server.proxy.open_connections < 2 and time.monotonic() < deadline:
            list(pool.map(lambda check: answer_all(server, [check]), checks * 2))
    assert server.proxy.open_connections >= 2

    for _cut in range(3):
        server.proxy.cut()
        statuses = []
        for _ in range(3):
            answers = answer_all(server, checks)
            statuses += [(name, answers[name][0]) for name, *_ in checks]
        bad = [(name, status) for name, status in statuses if not 200 <= status < 300]
        assert bad == [], (bad, server.output())
