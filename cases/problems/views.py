"""SARA problem-solving pages: the list by stage, a Problem's page, opening one, and its actions.

Officers and supervisors read every Problem. Officers contribute (notes,
analysis, response plan); supervisors lead (open, stage moves, issues, owner,
close). Each action is a POST form calling one service; a refused or invalid
action re-renders the page with the message beside the form, nothing saved.
"""

from __future__ import annotations

from dataclasses import replace

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from cases.models import Issue, Problem
from cases.problems import forms as f
from cases.selectors.problems import (
    ACTIVE_STAGES,
    ProblemFilters,
    can_contribute_to_problem,
    can_lead_problems,
    problem_activities,
    problem_assessment,
    problem_candidate_issues,
    problem_for_user,
    problem_issues,
    problem_page,
    problem_stage_counts,
    problem_timeline,
    stage_total,
)
from cases.services import (
    SARA_ORDER,
    problem_add_issues,
    problem_add_note,
    problem_advance_stage,
    problem_close,
    problem_move_stage,
    problem_open,
    problem_remove_issue,
    problem_set_owner,
    problem_stage_moves,
    problem_update_analysis,
    problem_update_response,
)
from cases.web.staff.cards import problem_list_rows
from core.forms import form_add_service_errors
from core.permissions import perm_required, supervisor_required
from core.text import whole_number
from partners.models import Neighborhood
from partners.selectors import area_shown

PAGE_SIZE = 30
problems_staff_required = perm_required("cases.view_problem")


@problems_staff_required
@require_http_methods(["GET"])
def problem_list_view(request):
    districts = sorted(set(Neighborhood.objects.exclude(district="").values_list("district", flat=True)))
    form = f.ProblemFilterForm(request.GET or None, districts=districts)
    filters = ProblemFilters(**form.selector_kwargs(request.user))
    area, switch = area_shown(request.user, request.GET, place_params=("district", "neighborhood"))
    if area is not None:
        filters = replace(filters, neighborhood_ids=area.neighborhood_ids)
    counts = problem_stage_counts(request.user, filters)
    page = problem_page(request.user, filters, request.GET.get("page"), size=PAGE_SIZE, counts=counts)
    query = request.GET.copy()
    tabs = []
    for value, label in [("active", _("Active")), *Problem.Stage.choices, ("", _("All"))]:
        query["stage"] = value
        query.pop("page", None)
        tabs.append({"value": value, "label": label, "count": stage_total(counts, value), "query": query.urlencode()})
    return render(
        request,
        "problems/list.html",
        {
            "form": form,
            "area": switch,
            "page": page,
            "rows": problem_list_rows(page.object_list),
            "tabs": tabs,
            "stage": filters.stage,
            "can_lead": can_lead_problems(request.user),
        },
    )


@supervisor_required
@require_http_methods(["GET", "POST"])
def problem_new(request):
    """Open a Problem by hand, from the dashboard or from an issue (``?issue=<id>`` pre-fills it)."""
    initial = {}
    issue_id = whole_number(request.GET.get("issue"))
    if issue_id is not None:
        issue = Issue.objects.select_related("category", "neighborhood").filter(pk=issue_id).first()
        if issue is not None:
            initial = {
                "title": _("%(category)s in %(neighborhood)s")
                % {"category": issue.category.name, "neighborhood": issue.neighborhood.name},
                "category": issue.category_id,
                "neighborhood": issue.neighborhood_id,
                "issues": issue.tracking_code,
            }
    form = f.ProblemOpenForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            problem = problem_open(
                title=data["title"],
                actor=request.user,
                category=data["category"],
                neighborhood=data["neighborhood"],
                owner=data["owner"],
                issues=data["issues"] or [],
                note=data["note"],
            )
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            messages.success(request, _("Problem opened."))
            return redirect(problem.get_absolute_url())
    return render(request, "problems/new.html", {"form": form}, status=400 if form.errors else 200)


def _detail_context(request, problem: Problem, bound: dict | None = None) -> dict:
    now = timezone.now()
    issues = problem_issues(problem, now)
    can_lead = can_lead_problems(request.user) and problem.stage != Problem.Stage.CLOSED
    can_contribute = can_contribute_to_problem(request.user, problem) and problem.stage != Problem.Stage.CLOSED
    bound = bound or {}
    candidates = problem_candidate_issues(problem) if can_lead else []
    stage_index = SARA_ORDER.index(problem.stage) if problem.stage in ACTIVE_STAGES else len(SARA_ORDER)
    # The buttons are the moves the service allows from here (STAGE_MOVES), forward move first.
    allowed = problem_stage_moves(problem) if can_lead else ()
    moves = [
        {"value": to, "label": Problem.Stage(to).label, "forward": SARA_ORDER.index(to) > stage_index}
        for to in allowed
        if to != Problem.Stage.CLOSED
    ]
    steps = [
        {
            "value": s,
            "label": s.label,
            "state": "current" if i == stage_index else ("done" if i < stage_index else ""),
        }
        for i, s in enumerate(SARA_ORDER)
    ]
    points = [
        {
            "lat": i.lat,
            "lng": i.lng,
            "code": i.tracking_code,
            "url": i.get_absolute_url(),
            "category": i.category.name,
            "open": i.is_open,
            "overdue": i.is_overdue,
        }
        for i in issues
        if i.lat is not None and i.lng is not None
    ]
    shapes = []
    if problem.neighborhood and problem.neighborhood.boundary:
        shapes.append({"name": problem.neighborhood.name, "boundary": problem.neighborhood.boundary})
    assessment = problem_assessment(problem, now)
    return {
        "problem": problem,
        "issues": issues,
        "open_count": sum(1 for i in issues if i.is_open),
        "timeline": problem_timeline(problem),
        "activities": problem_activities(problem),
        "assessment": assessment,
        "steps": steps,
        "moves": moves,
        "can_close": Problem.Stage.CLOSED in allowed,
        "can_lead": can_lead,
        "can_contribute": can_contribute,
        # Follow-up notes stay possible after closing ("still quiet six months on").
        "can_note": can_contribute_to_problem(request.user, problem),
        "map_data": {"points": points, "shapes": shapes},
        "map_settings": {
            "tiles": settings.MAP_TILE_URL,
            "attribution": settings.MAP_TILE_ATTRIBUTION,
            "center": settings.MAP_CENTER,
        },
        "assessment_chart": (
            {
                "labels": [_("Before the response"), _("Since the response")],
                "values": [assessment.before, assessment.after],
            }
            if assessment
            else None
        ),
        "move_form": bound.get("move") or bound.get("advance") or f.MoveForm(),
        "close_form": bound.get("close") or f.CloseForm(),
        "add_form": bound.get("add-issues") or f.AddIssuesForm(candidates=candidates),
        "analysis_form": bound.get("analysis") or f.AnalysisForm.for_problem(problem),
        "response_form": bound.get("response") or f.ResponseForm.for_problem(problem),
        "note_form": bound.get("note") or f.NoteForm(),
        "owner_form": bound.get("owner") or f.OwnerForm(initial={"owner": problem.owner_id}),
        "error_action": next(iter(bound), None),
        "error_form": next(iter(bound.values()), None),
    }


@problems_staff_required
@require_http_methods(["GET"])
def problem_detail(request, pk):
    problem = problem_for_user(request.user, pk)
    return render(request, "problems/detail.html", _detail_context(request, problem))


LEAD_ACTIONS = {"advance", "move", "close", "add-issues", "remove-issue", "owner"}
CONTRIBUTE_ACTIONS = {"analysis", "response", "note"}


def _run(action, request, problem, form):
    """Call the one service behind ``action`` with a valid form; returns the success message."""
    data = form.cleaned_data
    user = request.user
    if action == "advance":
        problem = problem_advance_stage(problem=problem, actor=user, note=data["note"])
        return _("Moved to %(stage)s.") % {"stage": problem.get_stage_display()}
    if action == "move":
        problem = problem_move_stage(problem=problem, to=data["to"], actor=user, note=data["note"])
        return _("Moved to %(stage)s.") % {"stage": problem.get_stage_display()}
    if action == "close":
        problem_close(problem=problem, actor=user, outcome=data["outcome"], note=data["note"])
        return _("Problem closed.")
    if action == "add-issues":
        added = problem_add_issues(problem=problem, issues=data["issues"], actor=user)
        return _("%(n)d issue(s) added.") % {"n": len(added)}
    if action == "remove-issue":
        issue = Issue.objects.filter(pk=data["issue"]).first()
        if issue is None:
            raise ValidationError(_("That issue no longer exists."))
        problem_remove_issue(problem=problem, issue=issue, actor=user, reason=data["reason"])
        return _("%(code)s removed from the problem.") % {"code": issue.tracking_code}
    if action == "owner":
        problem_set_owner(problem=problem, owner=data["owner"], actor=user)
        return _("Owner updated.")
    if action == "analysis":
        problem_update_analysis(
            problem=problem,
            actor=user,
            place=data["place"],
            harmed=data["harmed"],
            causing=data["causing"],
            when=data["when"],
            why=data["why"],
        )
        return _("Analysis saved.")
    if action == "response":
        problem_update_response(
            problem=problem, actor=user, approach=data["approach"], plan=data["plan"], partners=data["partners"]
        )
        return _("Response plan saved.")
    problem_add_note(problem=problem, actor=user, text=data["text"])
    return _("Note added.")


FORMS = {
    "advance": f.AdvanceForm,
    "move": f.MoveForm,
    "close": f.CloseForm,
    "remove-issue": f.RemoveIssueForm,
    "owner": f.OwnerForm,
    "analysis": f.AnalysisForm,
    "response": f.ResponseForm,
    "note": f.NoteForm,
}


@problems_staff_required
@require_POST
def problem_action(request, pk, action):
    if action not in LEAD_ACTIONS | CONTRIBUTE_ACTIONS:
        raise Http404
    problem = problem_for_user(request.user, pk)
    if action in LEAD_ACTIONS and not can_lead_problems(request.user):
        raise PermissionDenied
    if action in CONTRIBUTE_ACTIONS and not can_contribute_to_problem(request.user, problem):
        raise PermissionDenied
    if action == "add-issues":
        form = f.AddIssuesForm(request.POST, candidates=problem_candidate_issues(problem))
    elif action == "response":
        form = f.ResponseForm(request.POST, problem=problem)
    else:
        form = FORMS[action](request.POST)
    if form.is_valid():
        try:
            message = _run(action, request, problem, form)
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            messages.success(request, message)
            return redirect(problem.get_absolute_url())
    problem = problem_for_user(request.user, pk)
    context = _detail_context(request, problem, bound={action: form})
    return render(request, "problems/detail.html", context, status=400)
