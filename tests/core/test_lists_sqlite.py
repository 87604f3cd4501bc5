"""Every list page and its next page on SQLite, the embedded database of ``make run``, with the demo data.

The keyset pages, capped counts, the queue's branches (read as one query there), the word search
without its trigram index, an officer's own outreach log (a union of ids) and Open311's plain rows
all have a SQLite path of their own; the plan checks (tests/perf) cover PostgreSQL.
"""

from __future__ import annotations

from tests.sqlite import checked_run_on_sqlite

SCENARIO = """
import html, json, re
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
call_command("seed_demo", verbosity=0)
from django.contrib.auth import get_user_model
from django.test import Client
URLS = [
    "/queue/", "/issues/", "/issues/?q=trash+lot", "/issues/?q=100+main", "/issues/?overdue=yes",
    "/issues/?status=open&assignee=unassigned&priority=urgent", "/outreach/", "/outreach/?mine=on",
    "/partners/", "/notifications/", "/problems/",
    "/api/v1/issues/?page_size=5", "/api/v1/issues/queue/?page_size=5", "/api/v1/issues/?q=trash",
    "/api/v1/issues/?q=100+main",
    "/api/v1/issues/?ordering=due_at&page_size=5", "/api/v1/partners/?ordering=active_since&page_size=5",
    "/api/v1/escalations/?page_size=5", "/api/v1/activities/?page_size=5",
    "/open311/v2/requests.json", "/open311/v2/requests.xml?service_code=graffiti",
    "/open311/v2/requests.json?status=open",
    "/open311/v2/servicerequestupdates.json", "/open311/v2/servicerequestupdates.xml?page_size=5",
    "/open-data/issues.csv", "/open-data/issues.geojson?start=2026-01-01", "/es/open-data/outreach.csv",
]
answers = {}
for role in ("officer", "supervisor"):
    user = get_user_model().objects.filter(groups__name__iexact=role).order_by("id").first()
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    for url in URLS:
        first = client.get(url)
        body = (b"".join(first.streaming_content) if first.streaming else first.content).decode()
        following, rows = None, None
        if first.status_code == 200 and url.startswith("/api/"):
            data = first.json()
            rows = [r["id"] for r in data["results"]]
            if data["next"]:
                following = client.get(data["next"])
                rows2 = [r["id"] for r in following.json()["results"]]
                rows = (rows, rows2)
        elif first.status_code == 200 and 'rel="next"' in body:
            link = html.unescape(re.search(r'rel="next" href="([^"]+)"', body).group(1))
            following = client.get(url.split("?")[0] + link)
        answers[f"{role} {url}"] = {
            "status": first.status_code,
            "next": following.status_code if following is not None else None,
            "rows": rows,
        }
from cases.selectors.staff import assignable_officer_choices, assignable_officers
officers = {
    "prepared": assignable_officer_choices(),
    "queryset": [[str(u.pk), u.get_full_name() or u.get_username()] for u in assignable_officers()],
}
print(json.dumps({"pages": answers, "officers": officers}))
"""


def test_every_list_and_its_next_page_on_sqlite(tmp_path):
    result = checked_run_on_sqlite(SCENARIO, tmp_path)
    answers = result["pages"]
    assert answers, "no page was asked"
    # The filter forms' officers (one SQL statement of its own) are the assignable officers there too.
    officers = result["officers"]
    assert officers["prepared"] and officers["prepared"] == officers["queryset"]
    failed = {
        key: answer for key, answer in answers.items() if answer["status"] != 200 or answer["next"] not in (None, 200)
    }
    assert not failed, failed
    # The demo data is large enough that the main lists have a second page, and the API's second
    # page holds other rows than its first.
    for key in (
        "supervisor /issues/",
        "supervisor /outreach/",
        "officer /queue/",
        "supervisor /api/v1/issues/?page_size=5",
    ):
        assert answers[key]["next"] == 200, key
    first, second = answers["supervisor /api/v1/issues/?page_size=5"]["rows"]
    assert len(first) == 5 and second and not set(first) & set(second)
