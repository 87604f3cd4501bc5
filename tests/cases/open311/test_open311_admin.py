"""Open311 API keys: created and revoked in the admin, one per client; the demo data's key works."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from django.core.management import call_command

from cases.models import ApiClient, Category, Issue, Report
from partners.models import Neighborhood
from partners.selectors import neighborhood_for_point
from tests.cases.open311.test_open311_support import BASE, seed_services, validate

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"


def file_request(client, key, **extra):
    data = {
        "api_key": key,
        "service_code": "graffiti",
        "attribute[surface]": "wall",
        "lat": "39.0051",
        "long": "-94.5949",
        **extra,
    }
    return client.post(f"{BASE}/requests.json", urlencode(data), content_type=FORM)


def test_key_created_in_the_admin_files_requests_until_revoked_there(admin_client, client):
    seed_services()
    add_page = admin_client.get("/admin/cases/apiclient/add/").content.decode()
    generated = re.search(r'name="key"[^>]*value="([^"]+)"', add_page) or re.search(
        r'value="([^"]+)"[^>]*name="key"', add_page
    )
    assert generated, "the add form offers a generated key"
    key = generated.group(1)
    assert len(key) >= 40
    response = admin_client.post(
        "/admin/cases/apiclient/add/",
        {"name": "Neighborhood app", "key": key, "initial-key": key, "contact_email": "dev@example.org"},
    )
    assert response.status_code == 302, response.content[:2000]
    app = ApiClient.objects.get(name="Neighborhood app")
    assert app.key == key and app.is_active

    assert file_request(client, key).status_code == 201
    assert Report.objects.get().open311_client == app

    # Once created, the key cannot be edited in place (a client that needs a new key gets a new ApiClient).
    change_page = admin_client.get(f"/admin/cases/apiclient/{app.pk}/change/").content.decode()
    assert key in change_page
    assert 'name="key"' not in change_page

    response = admin_client.post(
        "/admin/cases/apiclient/", {"action": "revoke_keys", "_selected_action": [app.pk]}, follow=True
    )
    assert "1 API key(s) revoked" in response.content.decode()
    app.refresh_from_db()
    assert not app.is_active and app.revoked_at is not None
    before = Issue.objects.count()
    response = file_request(client, key)
    assert response.status_code == 403
    assert response.json() == [{"code": 403, "description": "api_key is not valid or has been revoked."}]
    assert Issue.objects.count() == before


def test_seed_demo_key_files_requests_and_demo_requests_match_the_schema(client):
    call_command("seed_demo", issues=50, activities=10, verbosity=0)
    assert ApiClient.objects.get(key="demo-open311-key").is_active

    services = client.get(f"{BASE}/services.json").json()
    validate(services, "services.json")
    assert services
    public_codes = set(Category.objects.filter(is_public=True, is_active=True).values_list("service_code", flat=True))
    assert {s["service_code"] for s in services} == public_codes
    plain = next(
        c
        for c in Category.objects.filter(is_public=True, is_active=True)
        if not c.attributes.filter(required=True).exists()
    )
    hood = next(h for h in Neighborhood.objects.all() if neighborhood_for_point(h.center_lat, h.center_lng) == h)
    response = client.post(
        f"{BASE}/requests.json",
        urlencode(
            {
                "api_key": "demo-open311-key",
                "service_code": plain.service_code,
                "lat": hood.center_lat,
                "long": hood.center_lng,
                "description": "Filed with the demo key",
            }
        ),
        content_type=FORM,
    )
    assert response.status_code == 201, response.content
    code = response.json()[0]["service_request_id"]
    assert Issue.objects.get(tracking_code=code).neighborhood == hood

    listed = client.get(f"{BASE}/requests.json").json()
    validate(listed, "requests.json")
    assert code in {item["service_request_id"] for item in listed}
    hidden = set(Issue.objects.filter(category__is_public=False).values_list("tracking_code", flat=True))
    assert not hidden & {item["service_request_id"] for item in listed}
