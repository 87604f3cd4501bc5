"""Property-based: arbitrary form fields thrown at /report/ and at a status page's feedback form.

Whatever arrives, the answer is never a server error, and a rejected request
saves nothing at all.
"""

from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cases.models import Event, Feedback, Issue, OutboxMessage, Report
from cases.services import issue_resolve
from tests.cases.web.public.public_helpers import CENTER_LAT, CENTER_LNG, center_neighborhood, graffiti
from tests.factories import IssueFactory, officer

pytestmark = pytest.mark.django_db

REPORT_FIELDS = [
    "category",
    "description",
    "lat",
    "lng",
    "address",
    "neighborhood",
    "photo_token",
    "remove_photo",
    "anonymous",
    "reporter_name",
    "reporter_email",
    "reporter_phone",
    "contact_consent",
    "same_issue",
    "website",
]

# Text that stresses parsers: any unicode (incl. NUL and surrogate-free controls), numbers as text, huge values.
texts = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=30),
    st.sampled_from(["", " ", "0", "-1", "1e308", "nan", "inf", "-inf", "99999999999999999999", "new", "NEW", "on"]),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.just("x" * 5001),
)

HEALTH = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


def rows():
    return (
        Issue.objects.count(),
        Report.objects.count(),
        Event.objects.count(),
        OutboxMessage.objects.count(),
        Feedback.objects.count(),
    )


@pytest.fixture
def world():
    place = center_neighborhood()
    category = graffiti()
    existing = IssueFactory(category=category, neighborhood=place, lat=CENTER_LAT, lng=CENTER_LNG)
    cop = officer(neighborhoods=[place])
    return {"place": place, "category": category, "existing": existing, "officer": cop}


def _plausible(world):
    """Values a real form would send, so that some examples get through and save."""
    return {
        "category": st.sampled_from([str(world["category"].pk), "", "abc", "0"]),
        "description": st.sampled_from(["Broken glass everywhere", "", "Ruido\nde noche"]),
        "lat": st.sampled_from([str(CENTER_LAT), "", "91", str(CENTER_LAT + 0.0004)]),
        "lng": st.sampled_from([str(CENTER_LNG), ""]),
        "address": st.sampled_from(["", "12th and Grand"]),
        "neighborhood": st.sampled_from([str(world["place"].pk), ""]),
        "photo_token": st.just(""),
        "remove_photo": st.sampled_from(["", "on"]),
        "anonymous": st.sampled_from(["", "on"]),
        "reporter_name": st.sampled_from(["", "Ana"]),
        "reporter_email": st.sampled_from(["", "ana@example.org", "ana@"]),
        "reporter_phone": st.sampled_from(["", "816 555 0100"]),
        "contact_consent": st.sampled_from(["", "on"]),
        "same_issue": st.sampled_from(["", "new", world["existing"].tracking_code, "CG-AAAA-AAAA"]),
        "website": st.just(""),
    }


@settings(max_examples=60, deadline=None, suppress_health_check=HEALTH)
@given(data=st.data())
def test_report_form_never_errors_and_saves_nothing_when_it_refuses(client, world, data):
    plausible = _plausible(world)
    # Start from a report that would be accepted, then spoil some fields.
    valid = {
        "category": str(world["category"].pk),
        "description": "Broken glass",
        "lat": str(CENTER_LAT),
        "lng": str(CENTER_LNG),
        "same_issue": "new",
        "website": "",
    }
    body = {}
    for name in REPORT_FIELDS:
        mode = data.draw(st.sampled_from(["keep"] * 6 + ["plausible", "arbitrary", "absent"]), label=name)
        if mode == "keep":
            if name in valid:
                body[name] = valid[name]
        elif mode == "plausible":
            body[name] = data.draw(plausible[name], label=name)
        elif mode == "arbitrary":
            body[name] = data.draw(texts, label=name)
    # A few arbitrary extra fields too.
    body.update(data.draw(st.dictionaries(st.text(min_size=1, max_size=10), texts, max_size=3), label="extra"))
    language = data.draw(st.sampled_from(["", "/es"]), label="language")
    before = rows()
    response = client.post(f"{language}/report/", body)
    event(f"status {response.status_code}")
    assert response.status_code in (200, 302, 400, 429), response.status_code
    after = rows()
    if response.status_code == 302:
        assert after[1] == before[1] + 1  # exactly one report
        assert after[0] - before[0] in (0, 1)
    else:
        assert after == before


FEEDBACK_PLAUSIBLE = {
    "fixed": st.sampled_from(["yes", "no", "", "maybe"]),
    "satisfaction": st.sampled_from(["1", "3", "5", "0", "6", ""]),
    "comment": st.sampled_from(["", "Thanks"]),
    "website": st.just(""),
}


@settings(max_examples=60, deadline=None, suppress_health_check=HEALTH)
@given(data=st.data(), code_case=st.sampled_from(["upper", "lower"]))
def test_feedback_form_never_errors_and_saves_nothing_when_it_refuses(client, world, data, code_case):
    body = {}
    for name, strategy in FEEDBACK_PLAUSIBLE.items():
        mode = data.draw(st.sampled_from(["plausible", "plausible", "arbitrary", "absent"]), label=name)
        if mode == "plausible":
            body[name] = data.draw(strategy, label=name)
        elif mode == "arbitrary":
            body[name] = data.draw(texts, label=name)
    body.update(data.draw(st.dictionaries(st.text(min_size=1, max_size=10), texts, max_size=2), label="extra"))
    cop = world["officer"]
    issue = world["existing"]
    issue.refresh_from_db()
    if issue.is_open:
        issue_resolve(issue=issue, actor=cop, note="Fixed.")
    code = issue.tracking_code if code_case == "upper" else issue.tracking_code.lower()
    before = rows()
    response = client.post(f"/report/{code}/", body)
    event(f"status {response.status_code}")
    assert response.status_code in (200, 302, 400, 429), response.status_code
    after = rows()
    if response.status_code != 302:
        assert after == before
    else:
        assert after[4] == before[4] + 1


@settings(max_examples=40, deadline=None, suppress_health_check=HEALTH)
@given(code=texts, query=st.dictionaries(st.sampled_from(["category", "lat", "lng", "neighborhood"]), texts))
def test_public_reads_never_error(client, world, code, query):
    assert client.get("/report/lookup/", {"code": code}).status_code in (200, 302, 404)
    assert client.get("/report/same-problem/", query).status_code in (200, 400)
    assert client.get(f"/report/{quote(code, safe='')}/").status_code in (200, 404)


@pytest.mark.django_db
def test_a_superscript_digit_in_an_id_is_refused_not_a_500(client):
    """Found by the property test above: "²" passes str.isdigit() but not int()."""
    for value in ("²", "³", "1²"):
        response = client.get("/report/same-problem/", {"category": value, "neighborhood": value, "lat": value})
        assert response.status_code < 500
