"""Anonymous messages on SQLite, the embedded database of ``make run``.

The suite's database is PostgreSQL, so a scenario runs in a subprocess on a fresh SQLite file
(tests/sqlite.py): the web form's key, unlocking (the OR over merged issues' codes), a message,
the notification to the staff of the place (districts are a JSON list, read in Python there), a
reply, the thread, and the key's rate limit counted in the database cache.
"""

import pytest

from tests.sqlite import checked_run_on_sqlite

SCENARIO = r"""
import json, re
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.test import Client
from cases import services
from cases.models import Notification, OutboxMessage, ResidentMessage
from cases.notifications.drain import outbox_drain
from tests import factories as f
from tests.cases.web.public.public_helpers import center_neighborhood, form_data, graffiti

place, cat = center_neighborhood(district="Central"), graffiti()
commander = f.officer(districts=["Central"])
resident = Client(REMOTE_ADDR="203.0.113.5")
answer = resident.post("/report/", form_data(cat, same_issue="new"))
page = resident.get(answer["Location"]).content.decode()
key = re.search(r'id="message-key">([A-Z0-9-]+)<', page).group(1)
code = answer["Location"].split("/")[2]
report = services.report_for_message_key(tracking_code=code, key=key)
wrong = resident.post(f"/report/{code}/messages/unlock/", {"key": "AAAA-BBBB-CCCC"})
right = resident.post(f"/report/{code}/messages/unlock/", {"key": key})
sent = resident.post(f"/report/{code}/messages/", {"body": "Still there."})
outbox_drain()
staff = Client()
staff.force_login(commander)
replied = staff.post(f"/issues/{report.issue_id}/messages/{report.pk}/reply/", {"body": "On our way."})
thread = resident.get(f"/report/{code}/messages/").content.decode()
other = services.issue_submit(category=cat, text="Another wall", neighborhood=place)
services.issue_mark_duplicate(issue=report.issue, of=other.issue, actor=f.supervisor(districts=["Central"]))
merged = services.report_for_message_key(tracking_code=code, key=key)
tries = [resident.post(f"/report/{code}/messages/unlock/", {"key": key}).status_code for _ in range(10)]
print(json.dumps({
    "found": report is not None,
    "unlock": [wrong.status_code, wrong["Location"], right.status_code, right["Location"]],
    "sent": sent.status_code, "replied": replied.status_code,
    "messages": list(ResidentMessage.objects.order_by("id").values_list("direction", "body")),
    "notified": list(Notification.objects.values_list("user_id", flat=True)), "commander": commander.pk,
    "thread": "On our way." in thread and "Community policing officer" in thread,
    "merged": merged is not None and merged.pk == report.pk,
    "tries": tries,
}))
"""


@pytest.mark.slow
def test_messages_work_on_sqlite(tmp_path):
    result = checked_run_on_sqlite(SCENARIO, tmp_path)
    assert result["found"] is True
    code = result["unlock"][3].split("/")[2]
    assert result["unlock"] == [303, f"/report/{code}/?key=wrong#error-summary", 303, f"/report/{code}/messages/"]
    assert result["sent"] == 303 and result["replied"] == 303
    assert result["messages"] == [["in", "Still there."], ["out", "On our way."]]
    assert result["notified"] == [result["commander"]]
    assert result["thread"] is True
    assert result["merged"] is True
    # 10 tries an hour per address: two were used above, so the ninth try of this loop is refused.
    assert result["tries"] == [303] * 8 + [429] * 2
