"""What lets the staff pages work offline (issue 19, item 2): the service worker at the site's root,
the web app manifest, and sign-out telling the browser to drop what it kept."""

from __future__ import annotations

import json
import re

import pytest

from tests import factories

pytestmark = pytest.mark.django_db


def worker_config(body: str) -> dict:
    return json.loads(re.search(r"var CONFIG = (\{.*?\});", body).group(1))


def test_the_service_worker_is_served_from_the_root_and_checked_on_every_visit(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Cache-Control"] == "no-cache"
    config = worker_config(response.content.decode())
    assert config["pages"] == ["/outreach/new/", "/outreach/", "/queue/"]
    assert "/static/css/app.css" in config["static"] and "/static/js/offline.js" in config["static"]
    assert re.fullmatch(r"[0-9a-f]{16}", config["version"])


def test_the_worker_keeps_only_staff_pages(client):
    patterns = [re.compile(p) for p in worker_config(client.get("/sw.js").content.decode())["pagePatterns"]]

    def kept(path):
        return any(p.search(path) for p in patterns)

    assert all(kept(p) for p in ["/queue/", "/issues/12/", "/outreach/", "/outreach/new/", "/outreach/3/"])
    never = ["/admin/", "/api/v1/issues/", "/accounts/login/", "/issues/12/contacts/", "/report/", "/es/report/"]
    assert not any(kept(p) for p in never)
    assert not any(kept(p) for p in ["/report/CG-ABCD-2345/", "/transparency/", "/", "/issues/12/note/"])


def test_a_new_release_renames_the_workers_cache(client, monkeypatch):
    from config import offline

    before = worker_config(client.get("/sw.js").content.decode())["version"]
    monkeypatch.setattr(offline, "SHELL_STATIC", (*offline.SHELL_STATIC, "js/map-text.js"))
    assert worker_config(client.get("/sw.js").content.decode())["version"] != before


def test_the_manifest_names_the_app_and_its_own_icons(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = response.json()
    assert manifest["start_url"] == "/queue/" and manifest["scope"] == "/"
    assert {icon["sizes"] for icon in manifest["icons"]} == {"192x192", "512x512", "any"}
    for icon in manifest["icons"]:
        assert icon["src"].startswith("/static/img/")
        assert client.get(icon["src"]).status_code == 200


def test_staff_pages_link_the_manifest_and_the_offline_script_public_pages_do_not(client):
    officer = factories.officer()
    public = client.get("/report/").content.decode()
    assert "manifest.webmanifest" not in public and "offline.js" not in public
    client.force_login(officer)
    page = client.get("/queue/").content.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert "/static/js/offline.js" in page and 'id="offline-outbox"' in page


def test_signing_out_tells_the_browser_to_drop_the_kept_pages_and_entries(client):
    client.force_login(factories.officer())
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Clear-Site-Data"] == '"cache", "storage"'


def test_the_policy_allows_the_worker_and_the_manifest_from_the_site_only(client):
    policy = client.get("/sw.js")["Content-Security-Policy"]
    assert "worker-src 'self'" in policy and "manifest-src 'self'" in policy
