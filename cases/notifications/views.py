"""In-app notifications for staff: /notifications/. Thin views over selectors and services."""

from __future__ import annotations

from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from cases.notifications.outbox import notification_mark_all_read, notification_mark_read
from cases.selectors.notifications import notifications_for, unread_notification_count
from core.pagination import page_from_request
from core.permissions import staff_required

PAGE_SIZE = 50


def _safe_next(request, fallback: str = "/notifications/") -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


@never_cache
@require_GET
@staff_required
def notification_list(request):
    only_unread = request.GET.get("show") == "unread"
    notifications = notifications_for(request.user)
    if only_unread:
        notifications = notifications.filter(read_at__isnull=True)
    page = page_from_request(request, notifications, ("-created_at", "-id"), size=PAGE_SIZE)
    return render(
        request,
        "notifications/list.html",
        {"page": page, "unread": unread_notification_count(request.user), "only_unread": only_unread},
    )


@never_cache
@require_GET
@staff_required
def notification_unread_count(request):
    """JSON ``{"unread": n}``; for htmx (the nav badge in base.html) a small HTML badge."""
    unread = unread_notification_count(request.user)
    if request.headers.get("HX-Request"):
        return render(request, "notifications/_badge.html", {"unread": unread})
    return JsonResponse({"unread": unread})


@require_POST
@staff_required
def notification_read(request, pk: int):
    notification = notifications_for(request.user).filter(pk=pk).first()
    if notification is None:
        raise Http404("No such notification.")
    notification_mark_read(notification=notification, user=request.user)
    return redirect(_safe_next(request))


@require_POST
@staff_required
def notification_read_all(request):
    notification_mark_all_read(user=request.user)
    return redirect(_safe_next(request))
