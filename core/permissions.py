"""Access decorators shared by every staff page.

The rule everywhere (issue 4, item 1): an anonymous visitor to a staff page is
sent to the login page (302 to ``settings.LOGIN_URL?next=…``); a signed-in user
without the role the page needs gets 403. Roles are asked as permissions, never
group names (see ``accounts/roles.py``):

- ``staff_required``      — officers and supervisors (``cases.view_issue``)
- ``officer_required``    — those who work issues (``cases.work_issue``)
- ``supervisor_required`` — supervisors (``cases.view_dashboard``)
- ``perm_required(perm)`` — any other single permission, same behaviour

Usage::

    from core.permissions import staff_required, supervisor_required

    @staff_required
    def issue_list(request): ...

    @supervisor_required
    def dashboard(request): ...

An htmx request from a visitor whose session ended gets 401 with an
``HX-Redirect`` header, so the whole page goes to the login form.

Inactive users are treated like anonymous ones (Django's backends already
refuse them at login). The object-level rules (may this officer act on this
issue?) live in the app's selectors, e.g. ``cases.selectors.can_work_issue``.
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.utils.http import urlencode

__all__ = [
    "STAFF_PERMISSION",
    "OFFICER_PERMISSION",
    "SUPERVISOR_PERMISSION",
    "perm_required",
    "staff_required",
    "officer_required",
    "supervisor_required",
]

STAFF_PERMISSION = "cases.view_issue"
OFFICER_PERMISSION = "cases.work_issue"
SUPERVISOR_PERMISSION = "cases.view_dashboard"


def _login_for_htmx(request) -> HttpResponse:
    """An htmx request whose session ended: send the whole page to login, back to where it was.

    A plain 302 would be followed by htmx and the login page swapped into a fragment.
    """
    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    back = current.path + (f"?{current.query}" if current.query else "") if current.path else request.get_full_path()
    response = HttpResponse(status=401)
    response["HX-Redirect"] = f"{settings.LOGIN_URL}?{urlencode({'next': back})}"
    return response


def perm_required(perm: str):
    """Decorator: anonymous → redirect to login; signed in without ``perm`` → 403."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not (user.is_authenticated and user.is_active):
                if request.headers.get("HX-Request") == "true":
                    return _login_for_htmx(request)
                return redirect_to_login(request.get_full_path())
            if not user.has_perm(perm):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapper.required_permission = perm
        return wrapper

    return decorator


staff_required = perm_required(STAFF_PERMISSION)
staff_required.__doc__ = "Officers and supervisors; anonymous → login, others → 403."
officer_required = perm_required(OFFICER_PERMISSION)
officer_required.__doc__ = "Staff who work issues; anonymous → login, others → 403."
supervisor_required = perm_required(SUPERVISOR_PERMISSION)
supervisor_required.__doc__ = "Supervisors; anonymous → login, officers → 403."
