"""The address import and suggestions on SQLite, the embedded database of ``make run``: the same
command and the same query, the search a scan instead of PostgreSQL's trigram index."""

from tests.sqlite import checked_run_on_sqlite

SCENARIO = r"""
import json, tempfile, pathlib
import django
django.setup()
from io import StringIO
from django.core.management import call_command
from django.test import Client
call_command("migrate", verbosity=0)
from tests import factories as f
from partners.models import AddressPoint
f.NeighborhoodFactory(slug="downtown", boundary=f.square(39.0, -95.0, 0.01))
path = pathlib.Path(tempfile.mkdtemp()) / "points.csv"
path.write_bytes(
    b"\xef\xbb\xbfADDRESS_ID,HOUSE_NUMBER,STREET,LAT,LON\n"
    b"1,400,East 12th Street,39.005,-94.995\n2,12,Oak St,39.006,-94.994\n"
)
call_command("import_addresses", str(path), stdout=StringIO())
call_command("import_addresses", str(path), stdout=StringIO())
client = Client()
answer = client.get("/addresses/suggest/", {"q": "12th st"})
bad = client.get("/addresses/suggest/", {"q": "ab"})
print(json.dumps({
    "count": AddressPoint.objects.count(),
    "results": answer.json()["results"],
    "bad": bad.status_code,
}))
"""


def test_import_and_suggestions_on_sqlite(tmp_path):
    result = checked_run_on_sqlite(SCENARIO, tmp_path)
    hood = result["results"][0]["neighborhood"]
    assert result["count"] == 2 and result["bad"] == 400
    assert [r["label"] for r in result["results"]] == ["400 East 12th Street"]
    assert hood["slug"] == "downtown"
