"""Moderation and photo serving on SQLite, the embedded database of ``make run``.

A subprocess on a fresh SQLite file: approve a photo, read it at its public URL and through
Open311 (the JSON subquery), hide it, resolve a text item, and walk the queue.
"""

from tests.sqlite import checked_run_on_sqlite

SCENARIO = r"""
import json
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from tests import factories as f
from tests.cases.web.public.public_helpers import jpeg_bytes
from cases import services
from cases.models import ModerationItem, Report
from cases.photos import photo_clean, public_photo_path

place = f.NeighborhoodFactory()
boss = f.supervisor(neighborhoods=[place])
issue = f.IssueFactory(neighborhood=place, category=f.CategoryFactory(service_code="graffiti-lite"))
report = f.ReportFactory(issue=issue, photo_state="pending")
clean = photo_clean(SimpleUploadedFile("p.jpg", jpeg_bytes(), content_type="image/jpeg"))
report.photo.save(clean.name, clean, save=True)
item = ModerationItem.objects.create(issue=issue, report=None, reason="masked", created_at=timezone.now())
ModerationItem.objects.create(issue=issue, report=report, reason="photo", created_at=timezone.now())
client = Client()
before = client.get(f"/open311/v2/requests/{issue.tracking_code}.json").json()[0]["media_url"]
services.photo_approve(report=report, reason="ok", actor=boss)
report.refresh_from_db()
url = public_photo_path(report.pk, report.public_photo.name)
served = client.get(url)
media = client.get(f"/open311/v2/requests/{issue.tracking_code}.json").json()[0]["media_url"]
services.moderation_item_resolve(item=item, actor=boss)
client.force_login(boss)
queue = client.get("/moderation/")
services.photo_hide(report=report, reason="face", actor=boss)
print(json.dumps({
    "before": before, "served": served.status_code, "media": media == f"http://testserver{url}",
    "queue": queue.status_code, "open_items": ModerationItem.objects.filter(resolved_at__isnull=True).count(),
    "after_hide": Client().get(url).status_code,
}))
"""


def test_moderation_on_sqlite(tmp_path):
    result = checked_run_on_sqlite(SCENARIO, tmp_path)
    assert result == {"before": None, "served": 200, "media": True, "queue": 200, "open_items": 0, "after_hide": 404}
