"""Schemathesis against the OpenAPI schema served by a live test server.

Every operation of /api/schema/ is called with generated input — valid input,
and input that breaks the schema — as an officer and as a supervisor (token
auth). Each response must: not be a 5xx, have a status code the schema lists
for the operation, have the documented content type, and match the documented
body schema. Path ids are steered towards rows that exist (and sometimes left
as generated, which exercises the 404 answers), so actions really run their
services on real issues.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

import pytest
import schemathesis
from django.utils import timezone
from hypothesis import HealthCheck, Phase, example, given, reject
from hypothesis import settings as hypothesis_settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cases import services
from cases.models import Escalation, Event, Issue, Notification, Problem
from cases.services import STAGE_MOVES
from cases.web.staff.forms import ACTIONS
from insights.figures.issues import decisions_waiting_q
from tests import factories

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES_PER_OPERATION = 12

pytestmark = [pytest.mark.slow]


def _seed():
    """A small city: two neighborhoods, issues in every state, reports, partners, activities, notifications."""
    home = factories.NeighborhoodFactory(district="Central")
    away = factories.NeighborhoodFactory(district="East")
    officer = factories.officer(neighborhoods=[home], username="st-officer")
    supervisor = factories.supervisor(districts=["Central"], username="st-supervisor")
    category = factories.CategoryFactory()
    factories.CategoryFactory(is_public=False)
    issues = [factories.IssueFactory(neighborhood=home, category=category) for _ in range(20)]
    issues += [factories.IssueFactory(neighborhood=away, category=category) for _ in range(3)]
    issues[1].assignee = officer
    issues[1].status = "in_progress"
    issues[1].save()
    past = timezone.now() - timedelta(days=10)
    overdue = factories.IssueFactory(
        neighborhood=home, category=category, created_at=past, due_at=past + timedelta(hours=4)
    )
    issues.append(overdue)
    # Some on hold and some resolved, so resume, close and reopen have something to act on.
    for issue in issues[10:15]:
        services.issue_hold(issue=issue, actor=supervisor, reason="Waiting for the owner")
    for issue in issues[15:20]:
        services.issue_resolve(issue=issue, actor=supervisor, note="Painted over")
    reports = [
        factories.ReportFactory(issue=issue, reporter_name="R. Resident", reporter_email="r@example.org")
        for issue in issues
    ]
    Escalation.objects.create(issue=overdue, level=1, action="raise_priority", created_at=timezone.now())
    partner = factories.PartnerFactory(email="", website="")
    partner.neighborhoods.set([home])
    activity = factories.ActivityFactory(neighborhood=home, created_by=officer)
    activity.officers.set([officer])
    activity.partners.set([partner])
    for user in (officer, supervisor):
        Notification.objects.create(user=user, subject="Assigned", issue=issues[1], created_at=timezone.now())
    Event.objects.create(issue=issues[0], kind=Event.Kind.NOTE, message="seed", created_at=timezone.now())
    problems = [
        services.problem_open(
            title=f"Tagging along the corridor {n}", actor=supervisor, issues=issues[2 + 2 * n : 4 + 2 * n]
        )
        for n in range(6)
    ]
    # Waiting for a supervisor's decision, for the dashboard's decisions.
    waiting = [factories.IssueFactory(neighborhood=away, category=category) for _ in range(8)]
    Issue.objects.filter(pk__in=[i.pk for i in waiting]).update(needs_decision=True)
    issues += waiting
    ids = {
        "issues": [i.pk for i in issues],
        "reports": [r.pk for r in reports],
        "categories": [category.pk],
        "neighborhoods": [home.pk, away.pk],
        "partners": [partner.pk],
        "activities": [activity.pk],
        "escalations": list(Escalation.objects.values_list("pk", flat=True)),
        "notifications": list(Notification.objects.values_list("pk", flat=True)),
        "staff": [officer.pk, supervisor.pk],
        "problems": [p.pk for p in problems],
        "home": home,
        "category": category,
    }
    return officer, supervisor, ids


# Body fields that hold ids, and the collection whose rows they name.
BODY_IDS = {
    "category": "categories",
    "neighborhood": "neighborhoods",
    "officer": "staff",
    "officers": "staff",
    "duplicate_of": "open_issues",
    "join_issue": "open_issues",
    "issues": "issues",
    "partners": "partners",
    "problem": "problems",
    "issue": "grouped_issues",
    "owner": "staff",
}


def _steer(value, known, *, keep=True):
    """An id → an existing one; with ``keep``, value % (n + 1) == n leaves it as generated (usually a 404/400)."""
    if isinstance(value, bool) or not known:
        return value
    if isinstance(value, int):
        slot = value % (len(known) + 1 if keep else len(known))
        return known[slot] if slot < len(known) else value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return str(_steer(int(value), known, keep=keep))
    return value


def problem_moves_from(stage) -> list[str]:
    """The stages ``move/`` takes from ``stage`` (the detail's ``moves``: closing aside)."""
    return [target for target in STAGE_MOVES.get(stage, ()) if target != Problem.Stage.CLOSED]


def _known(collection, ids):
    """Existing ids of a collection; for issues, those in the states an action applies to right now."""
    if collection == "open_issues":
        return list(Issue.objects.filter(status__in=Issue.OPEN_STATUSES).values_list("pk", flat=True))
    if collection == "grouped_issues":
        return list(Issue.objects.filter(problem__isnull=False).values_list("pk", flat=True))
    if collection == "free_issues":
        return list(
            Issue.objects.filter(status__in=Issue.OPEN_STATUSES, problem__isnull=True).values_list("pk", flat=True)
        )
    if collection == "grouping_problems":
        open_ones = Problem.objects.exclude(stage=Problem.Stage.CLOSED).filter(issues__isnull=False)
        return sorted(set(open_ones.values_list("pk", flat=True)))
    if collection == "open_problems":
        return list(Problem.objects.exclude(stage=Problem.Stage.CLOSED).values_list("pk", flat=True))
    if collection.startswith("problem_moves:"):
        stage = Problem.objects.filter(pk=int(collection.split(":")[1])).values_list("stage", flat=True).first()
        return problem_moves_from(stage)
    if collection.startswith("problem_issues:"):
        return list(Issue.objects.filter(problem_id=int(collection.split(":")[1])).values_list("pk", flat=True))
    if collection == "issues:decision":
        return list(Issue.objects.filter(decisions_waiting_q()).values_list("pk", flat=True))
    if collection.startswith("issues:"):
        action = ACTIONS[collection.split(":", 1)[1]]
        return list(Issue.objects.filter(status__in=action.statuses).values_list("pk", flat=True))
    return ids.get(collection) or []


def _steer_ids(case, ids, known_ids=None):
    """Point generated ids (in the path and in JSON bodies) at rows that exist, so services really run.

    An issue action's id is steered to issues in a state the page offers that action for (the
    rest of the time it stays as generated) — like a client that acts on what it has just read.
    ``known_ids(collection)`` reads them (by default from this process's database).
    """
    known_ids = known_ids or (lambda collection: _known(collection, ids))
    params = case.path_parameters or {}
    parts = case.operation.path.split("/")  # ['', 'api', 'v1', 'issues', '{id}', 'resume', '']
    for name, value in params.items():
        collection = {"issue_id": "issues", "problem_id": "problems"}.get(name, parts[3])
        if collection == "issues" and len(parts) > 6 and parts[5] in (*ACTIONS, "decision"):
            collection = f"issues:{parts[5]}"
        if collection == "problems" and len(parts) > 6 and parts[5] != "events":
            collection = "grouping_problems" if parts[5] in ("remove-issue", "advance", "move") else "open_problems"
        params[name] = _steer(value, known_ids(collection))
    if parts[5:6] == ["move"] and isinstance(case.body, dict) and str(params.get("id", "")).isdigit():
        # Like a client that moves where the problem's ``moves`` says it may; the last one listed
        # (back a stage, or Analysis from Scanning with an issue grouped) has no gate to pass.
        moves = known_ids(f"problem_moves:{int(params['id'])}")
        if moves and case.body.get("to") not in moves:
            case.body["to"] = moves[-1]
    if isinstance(case.body, dict):
        for name, collection in BODY_IDS.items():
            value = case.body.get(name)
            known = known_ids(collection)
            if name == "issues" and parts[5:6] == ["add-issues"]:
                known = known_ids("free_issues")
                if not known and str(params.get("id", "")).isdigit():
                    # By the time a run gets here its other actions may have finished or grouped
                    # every open issue; adding one the problem already holds is still a valid call.
                    known = known_ids(f"problem_issues:{int(params['id'])}")
            if name == "issue" and parts[5:6] == ["remove-issue"] and str(params.get("id", "")).isdigit():
                # The issues grouped under this very problem.
                known = known_ids(f"problem_issues:{int(params['id'])}")
            if isinstance(value, list):
                # Every item steered (one stray id fails the whole list), and no repeats.
                steered = []
                for item in (_steer(item, known, keep=False) for item in value):
                    if not (isinstance(item, int | str) and item in steered):
                        steered.append(item)
                case.body[name] = steered
            elif value is not None:
                case.body[name] = _steer(value, known)


def _route_name(path: str) -> str | None:
    from django.urls import Resolver404, resolve

    try:
        return resolve(path).view_name
    except Resolver404:
        return None


def _names_another_route(template: str, params: dict) -> bool:
    """Whether a generated (invalid) path parameter spells a sibling route's literal segment."""
    if not params or all(str(value).isdigit() for value in params.values()):
        return False
    generated = template
    for name, value in params.items():
        generated = generated.replace(f"{{{name}}}", quote(str(value), safe=""))
    named = _route_name(generated)
    # The API's own "no such address" (core.api.errors) is the answer an invalid id should get.
    if named is None or named.endswith("api_not_found"):
        return False
    return named != _route_name(re.sub(r"\{\w+\}", "1", template))


def runner(operation, *, base_url, headers, ids, seen, known_ids=None, max_examples=EXAMPLES_PER_OPERATION):
    """A Hypothesis test calling one operation with valid and invalid input (also used by the
    embedded-mode check, tests/config/test_embedded_mode.py, with ids read from its SQLite file)."""
    strategy = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(GenerationMode.NEGATIVE)

    @hypothesis_settings(settings_for_run, max_examples=max_examples)
    @given(case=strategy)
    def run(case):
        _steer_ids(case, ids, known_ids)
        if _names_another_route(operation.path, case.path_parameters or {}):
            reject()  # e.g. /issues/{id}/ with id "queue" is /issues/queue/: another operation, tested as such
        response = case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS)
        seen.setdefault(operation.label, set()).add(response.status_code)

    if operation.label in EXPLICIT_BODIES:
        path_ids = dict.fromkeys(re.findall(r"\{(\w+)\}", operation.path), 0)
        case = operation.Case(
            path_parameters=path_ids or None, body=dict(EXPLICIT_BODIES[operation.label]), media_type="application/json"
        )
        run = example(case=case)(run)
    return run


# Besides the generated input, one request each that a real client would send, for the
# operations whose valid bodies the generator rarely hits (ids 0 steer to the first fitting row),
# so whether each operation is ever reached does not hang on its luck.
EXPLICIT_BODIES = {
    "POST /api/v1/issues/": {
        "category": 0,
        "description": "Fresh graffiti on the laundromat's side wall, phoned in by the owner",
        "neighborhood": 0,
        "channel": "phone",
    },
    "POST /api/v1/issues/{id}/decision/": {"decision": "acknowledge"},
    "POST /api/v1/issues/{id}/duplicate/": {"duplicate_of": 1},  # the second open issue: not itself
    "POST /api/v1/problems/{id}/add-issues/": {"issues": [0]},
    "POST /api/v1/problems/{id}/remove-issue/": {"issue": 0, "reason": "Another owner, another problem"},
    "POST /api/v1/problems/{id}/owner/": {"owner": None},
    "POST /api/v1/problems/{id}/close/": {"outcome": Problem.Outcome.values[0], "note": "Counts fell by half"},
}


@pytest.mark.django_db(transaction=True)
def test_api_conforms_to_its_schema(live_server, settings):
    # Generous budgets: this test is about conformance, not about being throttled.
    rates = dict(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"])
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": dict.fromkeys(rates, "100000/min")}
    officer, supervisor, ids = _seed()
    tokens = {
        name: Token.objects.create(user=user).key for name, user in (("officer", officer), ("supervisor", supervisor))
    }

    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/?format=json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30

    failures = []
    seen = {who: {} for who in tokens}
    for who, key in tokens.items():
        headers = {"Authorization": f"Token {key}"}
        for operation in operations:
            run = runner(operation, base_url=live_server.url, headers=headers, ids=ids, seen=seen[who])
            try:
                run()
            except (
                Exception,
                BaseExceptionGroup,
            ) as error:  # collect every operation's failure, then report them together
                failures.append(f"{who} {operation.label}: {error}"[:3000])
    assert not failures, "\n\n".join(failures)
    # The run is only worth something if generated requests got through to the code behind each
    # operation: every operation answered 2xx at least once (to the officer or the supervisor).
    succeeded = {
        label for by_op in seen.values() for label, codes in by_op.items() if any(200 <= c < 300 for c in codes)
    }
    missing = sorted({op.label for op in operations} - succeeded)
    assert not missing, {label: {who: sorted(seen[who].get(label, ())) for who in seen} for label in missing}


settings_for_run = hypothesis_settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
