"""WCAG 2.1 AA, checked by machine: axe-core in real Chromium on every page, as each role sees it.

The pages come from the URL map, not from a list kept here: the shared crawler
(tests/crawl.py) starts at every route without a parameter, follows every link it
finds (one page per route, in each language), and every HTML page it reaches is
opened in Chromium at 360 px and at 1366 px and checked with axe-core's ``wcag2a``,
``wcag2aa``, ``wcag21a`` and ``wcag21aa`` rules. A new page is checked the day it is
linked from another. axe-core is vendored (tests/browser/vendor/axe-core, from the
npm registry), so nothing is downloaded at run time.

Left out: Django's own admin (the issue excludes it), and answers that are not HTML
(the API, Open311, CSV exports, photos).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from tests.browser.conftest import DESKTOP, PHONE, force_login, go_offline, wait_for_the_worker
from tests.crawl import Crawler, route_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = (Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# Who the pages are checked as: a resident (no sign-in), then staff. A staff role after the first
# checks only the routes the roles before it did not reach (officers and administrators see mostly
# the supervisor's pages, with their own data), so the run stays a few minutes.
AUDIENCES = {"resident": (None,), "staff": ("supervisor", "officer", "admin")}
# WCAG 1.4.10: content reflows at 320 CSS px with no scrolling sideways (tables scroll inside their own region).
REFLOW = {"width": 320, "height": 640}
NOT_CHECKED = ("/admin/", "/api/v1/", "/open311/", "/photos/", "/static/", "/media/")


def _checked(url: str, content_type: str, status: int) -> bool:
    path = urlparse(url).path
    return status == 200 and "text/html" in content_type and not path.startswith(NOT_CHECKED)


@pytest.fixture
def demo(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("seed_demo", issues=120, activities=30, verbosity=0)


def _checked_pages_of(live_server, role: str | None) -> list[str]:
    """Every HTML page the role reaches from the URL map, one per route and language (staff pages
    are in English only for now: their Spanish comes with staff language settings)."""
    urls: list[str] = []
    for language in ("en", "es") if role is None else ("en",):
        crawler = Crawler(live_server.url, language=language, per_route=1, max_pages=300)
        if role:
            crawler.checked_login(role, "commonground")
        result = crawler.crawl()
        assert not result.server_errors, [visit.url for visit in result.server_errors]
        urls += [visit.url for visit in result.visits if _checked(visit.url, visit.content_type, visit.status)]
    return list(dict.fromkeys(urls))


# A button the app left to the browser's own look (grey face, outset border): not one of its styles.
UNSTYLED_BUTTONS = """() => [...document.querySelectorAll("button, input[type=submit], input[type=button]")]
    .filter(b => b.offsetParent !== null && !b.closest(".leaflet-container, #swagger-ui"))
    .filter(b => {
        const style = getComputedStyle(b);
        return style.backgroundColor === "rgb(239, 239, 239)" || style.borderTopStyle === "outset";
    })
    .slice(0, 5)
    .map(b => (b.textContent || b.value || "").trim().slice(0, 40) + " — the browser's default button")"""

# Whether an element names, with aria-describedby, texts that all exist and say something (and, with
# `shown`, are shown on the page).
DESCRIBED = """const described = (element, shown) => {
    const ids = (element.getAttribute("aria-describedby") || "").split(/\\s+/).filter(Boolean);
    return ids.length > 0 && ids.every(id => {
        const text = document.getElementById(id);
        return text && text.textContent.trim() && (!shown || text.offsetParent !== null);
    });
};"""

# A map shown without a text beside it that says what it draws (a legend) and where its contents
# are as text: the map names that text with aria-describedby, and the text is shown with the map.
UNDESCRIBED_MAPS = f"""() => {{ {DESCRIBED} return [...document.querySelectorAll(".map")]
    .filter(m => m.offsetParent !== null && !described(m, true))
    .map(m => "#" + m.id + " — no legend or text named by aria-describedby, or it is hidden"); }}"""

# A chart without its figures as text: a table in the <details> beside it, or a text it names.
CHARTS_WITHOUT_FIGURES = f"""() => {{ {DESCRIBED} return [...document.querySelectorAll("canvas")]
    .filter(c => !c.closest("figure")?.querySelector("details.chart-data table") && !described(c, false))
    .map(c => "#" + c.id + " — no table of its figures beside it and no text named by aria-describedby"); }}"""

OWN_CHECKS = (
    (UNSTYLED_BUTTONS, "one-button-style", "minor", "Every button has the app's style"),
    (UNDESCRIBED_MAPS, "map-described", "serious", "Every map says what it shows, in text beside it"),
    (CHARTS_WITHOUT_FIGURES, "chart-figures", "serious", "Every chart has its figures as text beside it"),
)


def _violations(page) -> list[dict]:
    own = [
        {"id": name, "impact": impact, "help": text, "nodes": nodes}
        for script, name, impact, text in OWN_CHECKS
        if (nodes := page.evaluate(script))
    ]
    page.evaluate(AXE)
    found = page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(
                    n => n.target.join(" ") + " — " + n.failureSummary.split("\\n").slice(0, 3).join(" ")
                )
            }));
        }""",
        WCAG_TAGS,
    )
    return found + own


def _reflow_failures(page) -> list[dict]:
    """What sticks out sideways at 320 px (the page scrolls sideways when anything does)."""
    page.set_viewport_size(REFLOW)
    try:
        # Two frames: what redraws on a resize (the charts) has done so.
        page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
        wide = page.evaluate(
            """() => {
                const limit = document.documentElement.clientWidth;
                if (document.documentElement.scrollWidth <= limit + 1) return [];
                // What sticks out and is not clipped by an ancestor that stays inside (a map, a table's region).
                const clipped = e => {
                    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
                        const style = getComputedStyle(a);
                        if (style.overflowX !== "visible") return a.getBoundingClientRect().right <= limit + 1;
                    }
                    return false;
                };
                const culprits = [...document.querySelectorAll("body *")]
                    .filter(e => e.getBoundingClientRect().right > limit + 1 && !clipped(e))
                    .slice(0, 5)
                    .map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
                        + (typeof e.className === "string" && e.className ? "." + e.className.split(" ").join(".") : "")
                        + " — right edge at " + Math.round(e.getBoundingClientRect().right) + " px");
                const width = document.documentElement.scrollWidth;
                return culprits.length ? culprits : ["the page is " + width + " px wide (no one element sticks out)"];
            }"""
        )
    finally:
        page.set_viewport_size(PHONE)
    if not wide:
        return []
    return [{"id": "reflow-320", "impact": "serious", "help": "Page scrolls sideways at 320 px", "nodes": wide}]


def _report(found: dict[str, list[dict]]) -> str:
    lines = []
    for where, violations in found.items():
        for violation in violations:
            lines.append(f"{where}: {violation['id']} ({violation['impact']}) {violation['help']}")
            lines += [f"    {node}" for node in violation["nodes"]]
    return "\n".join(lines)


def _check_here(page, found: dict, label: str, viewport: dict) -> None:
    violations = _violations(page)
    if viewport is PHONE:
        violations += _reflow_failures(page)
    if violations:
        found[f"{label} at {viewport['width']} px"] = violations


@pytest.mark.parametrize("audience", AUDIENCES)
def test_every_page_meets_wcag_21_aa_at_360_and_1366_px_and_reflows_at_320(browser, live_server, demo, audience):
    found: dict[str, list[dict]] = {}
    checked_routes: set[str] = set()
    checked = 0
    for role in AUDIENCES[audience]:
        pages = _checked_pages_of(live_server, role)
        # The crawl really reached the pages (a broken crawl must not pass by checking nothing).
        paths = {urlparse(url).path for url in pages}
        expected = {"/", "/report/", "/transparency/", "/transparency/languages/", "/pulse/"}
        if role is None:
            expected |= {"/es/", "/es/report/", "/es/transparency/", "/es/transparency/languages/", "/es/pulse/"}
        else:
            expected |= {"/queue/", "/issues/", "/outreach/", "/outreach/new/", "/partners/", "/notifications/"}
        if role in ("supervisor", "admin"):
            expected |= {"/dashboard/", "/dashboard/languages/", "/problems/"}
        assert expected <= paths, (role, sorted(expected - paths))
        pages = [url for url in pages if route_of(urlparse(url).path) not in checked_routes]
        checked_routes |= {route_of(urlparse(url).path) for url in pages}
        for viewport in (PHONE, DESKTOP):
            context = browser.new_context(viewport=viewport, bypass_csp=True)
            context.set_default_timeout(15000)
            if role:
                force_login(context, live_server, get_user_model().objects.get(username=role))
            page = context.new_page()
            for url in pages:
                page.goto(url, wait_until="load")
                where = urlparse(url).path + (f"?{urlparse(url).query}" if urlparse(url).query else "")
                _check_here(page, found, f"{where} as {role or 'resident'}", viewport)
                checked += 1
            context.close()
    assert checked >= 20, checked
    assert not found, f"{len(found)} page views break WCAG 2.1 AA rules:\n" + _report(found)


@pytest.mark.parametrize("prefix", ["", "/es"], ids=["english", "spanish"])
def test_the_residents_states_meet_wcag_21_aa(browser, live_server, demo, prefix):
    """What a crawl of links cannot reach: the form with its errors, "is this the same problem?",
    the confirmation, a status page with a public timeline, its message thread, and a code not found."""
    from django.utils import timezone

    from cases.models import Event, FixedCheck, Follower, Issue, OutboxMessage
    from cases.notifications.residents import unsubscribe_token
    from cases.services.fixed_checks import fixed_check_token

    with_timeline = (
        Event.objects.filter(is_public=True, issue__category__is_public=True).exclude(message="").order_by("pk").first()
    )
    assert with_timeline is not None, "the demo data has no public timeline to check"
    code = with_timeline.issue.tracking_code
    from partners.models import Neighborhood

    pinned, elsewhere = Neighborhood.objects.order_by("pk")[:2]
    found: dict[str, list[dict]] = {}
    for viewport in (PHONE, DESKTOP):
        context = browser.new_context(viewport=viewport, bypass_csp=True)
        context.set_default_timeout(15000)
        page = context.new_page()

        page.goto(f"{live_server.url}{prefix}/report/", wait_until="load")
        # The address field's suggestions, open, one highlighted (the demo's address points).
        page.click("#id_address")
        page.keyboard.type("troost ave")
        page.wait_for_selector("#address-suggestions [role=option]")
        page.keyboard.press("ArrowDown")
        _check_here(page, found, f"{prefix}/report/ with the address suggestions open", viewport)
        page.keyboard.press("Escape")
        page.fill("#id_address", "")
        page.click("#submit-report")
        page.wait_for_selector("#error-summary")  # the server's answer: the form again, with its errors
        _check_here(page, found, f"{prefix}/report/ with every error", viewport)

        # A pin in one neighborhood and another chosen from the list: the form asks which is right.
        page.locator("input[name=category]").first.check()
        page.fill("#id_description", "Broken glass all over the playground, next to the swings.")
        page.evaluate(
            "([lat, lng]) => { document.querySelector('#id_lat').value = lat; "
            "document.querySelector('#id_lng').value = lng; }",
            [(pinned.min_lat + pinned.max_lat) / 2, (pinned.min_lng + pinned.max_lng) / 2],
        )
        page.select_option("#id_neighborhood", value=str(elsewhere.pk))
        page.click("#submit-report")
        page.wait_for_selector("#location-pin")
        _check_here(page, found, f"{prefix}/report/ asking whether the pin or the list is right", viewport)
        page.check("#location-neighborhood")
        page.click("#submit-report")
        page.wait_for_load_state("load")
        if page.locator("#same-problem").count():
            _check_here(page, found, f"{prefix}/report/ asking whether it is the same problem", viewport)
            page.check("#same-new")
            page.click("#submit-report")
        page.wait_for_url(re.compile(r".*/report/CG-[A-Z0-9]{4}-[A-Z0-9]{4}/$"))
        assert page.locator(".confirmation").count() == 1
        _check_here(page, found, f"{prefix}/report/<new code>/ (the confirmation)", viewport)

        for path, label in (
            (f"{prefix}/report/{code}/", "a status page with a public timeline"),
            (f"{prefix}/report/{code}/messages/", "its message thread"),
            (f"{prefix}/report/lookup/?code=CG-0000-0000", "a code that is not found"),
            (f"{prefix}/around/?neighborhood={pinned.slug}", "a neighborhood's recent reports, listed and mapped"),
        ):
            page.goto(f"{live_server.url}{path}", wait_until="load")
            _check_here(page, found, f"{path} ({label})", viewport)

        # Following it by email: the form with its error, "check your inbox", the page the emailed
        # link opens, that page once confirmed, and the page that stops the emails.
        page.goto(f"{live_server.url}{prefix}/report/{code}/", wait_until="load")
        page.click("#follow-form button[type=submit]")
        page.wait_for_selector("#error-summary")
        _check_here(page, found, f"{prefix}/report/{code}/follow/ with its error", viewport)
        page.fill("#id_email", f"neighbour-{viewport['width']}@example.org")
        page.click("#follow-form button[type=submit]")
        page.wait_for_selector("[role=status]")
        _check_here(page, found, f"{prefix}/report/{code}/follow/ (check your inbox)", viewport)
        confirm = re.search(r"/(?:es/)?updates/confirm/[^/\s]+/", OutboxMessage.objects.latest("pk").body).group(0)
        page.goto(f"{live_server.url}{confirm}", wait_until="load")
        _check_here(page, found, f"{prefix}/updates/confirm/<link>/", viewport)
        page.click("#confirm-form button[type=submit]")
        page.wait_for_selector("[role=status]")
        _check_here(page, found, f"{prefix}/updates/confirm/<link>/ (confirmed)", viewport)
        stop = unsubscribe_token(Follower.objects.latest("pk"))
        page.goto(f"{live_server.url}{prefix}/updates/stop/{stop}/", wait_until="load")
        _check_here(page, found, f"{prefix}/updates/stop/<link>/", viewport)

        # "Is it fixed?": the page a link of the email opens sends the answer by itself; then the
        # thanks, and the same link again.
        resolved = Issue.objects.filter(status=Issue.Status.RESOLVED).order_by("pk").first()
        reporter = Follower.objects.create(
            issue=resolved,
            email=f"reporter-{viewport['width']}@example.org",
            source=Follower.Source.REPORTER,
            confirmed_at=timezone.now(),
            created_at=timezone.now(),
        )
        check = FixedCheck.objects.create(
            follower=reporter, issue=resolved, resolved_at=resolved.resolved_at, asked_at=timezone.now()
        )
        answer = f"{prefix}/updates/fixed/{fixed_check_token(check, True)}/"
        page.goto(f"{live_server.url}{answer}", wait_until="load")
        page.wait_for_selector("[role=status]")
        _check_here(page, found, f"{prefix}/updates/fixed/<link>/ (answered)", viewport)
        page.goto(f"{live_server.url}{answer}", wait_until="load")
        _check_here(page, found, f"{prefix}/updates/fixed/<link>/ (answered before)", viewport)

        # Neighborhood alerts: the form with its errors, then sent, the emailed link, confirmed.
        page.goto(f"{live_server.url}{prefix}/alerts/", wait_until="load")
        page.click("#alerts-form button[type=submit]")
        page.wait_for_selector("#error-summary")
        _check_here(page, found, f"{prefix}/alerts/ with its errors", viewport)
        page.fill("#id_email", f"alerts-{viewport['width']}@example.org")
        page.locator("#alerts-neighborhoods input[type=checkbox]").first.check()
        page.click("#alerts-form button[type=submit]")
        page.wait_for_selector("[role=status]")
        _check_here(page, found, f"{prefix}/alerts/ (check your inbox)", viewport)
        confirm = re.search(r"/(?:es/)?alerts/confirm/[^/\s]+/", OutboxMessage.objects.latest("pk").body).group(0)
        page.goto(f"{live_server.url}{confirm}", wait_until="load")
        _check_here(page, found, f"{prefix}/alerts/confirm/<link>/", viewport)
        page.click("#confirm-form button[type=submit]")
        page.wait_for_selector("[role=status]")
        _check_here(page, found, f"{prefix}/alerts/confirm/<link>/ (confirmed)", viewport)

        # The trust pulse: the survey with its errors, answered, and asked again this quarter.
        page.goto(f"{live_server.url}{prefix}/pulse/", wait_until="load")
        page.click("#pulse-form button[type=submit]")
        page.wait_for_selector("#error-summary")
        _check_here(page, found, f"{prefix}/pulse/ with its errors", viewport)
        page.select_option("#id_neighborhood", value=pinned.slug)
        for fieldset in page.locator("#pulse-form fieldset").all():
            fieldset.locator("input[type=radio]").nth(3).check()
        page.click("#pulse-form button[type=submit]")
        page.wait_for_selector("#pulse-done")
        _check_here(page, found, f"{prefix}/pulse/ (answered)", viewport)
        page.goto(f"{live_server.url}{prefix}/pulse/", wait_until="load")
        _check_here(page, found, f"{prefix}/pulse/ (answered this quarter)", viewport)
        context.close()
    assert not found, f"{len(found)} page views break WCAG 2.1 AA rules:\n" + _report(found)


@pytest.mark.parametrize("language", ["en", "es"], ids=["english", "spanish"])
def test_the_offline_states_meet_wcag_21_aa(browser, live_server, settings, language):
    """What only a lost signal shows (static/js/offline.js): an issue page and the outreach form
    with entries waiting to send on the device, and with a note in conflict (the issue was closed
    meanwhile), its "Send anyway" and "Discard"."""
    from cases.models import Issue
    from partners.models import StaffProfile
    from tests import factories
    from tests.browser.conftest import login

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    westside = factories.NeighborhoodFactory(name="Westside", slug="westside")
    officer = factories.officer(username=f"ofc.{language}", neighborhoods=[westside])
    StaffProfile.objects.filter(user=officer).update(language=language)
    found: dict[str, list[dict]] = {}
    for viewport in (PHONE, DESKTOP):
        issue = factories.IssueFactory(neighborhood=westside, status=Issue.Status.ACKNOWLEDGED)
        context = browser.new_context(viewport=viewport)
        context.set_default_timeout(15000)
        page = context.new_page()
        login(page, live_server, officer.username)
        page.goto(f"{live_server.url}/issues/{issue.pk}/", wait_until="load")
        assert page.locator("html").get_attribute("lang") == language
        wait_for_the_worker(page)
        go_offline(page)
        for kept, text in enumerate(
            ("Cut fence wire reported again by the neighbours.", "Owner will fix it on Monday."), start=1
        ):
            page.fill("#id_note_text", text)
            page.locator("form.action-note button[type=submit]").click()
            # Kept before the next is typed: saving empties the form, which would empty the next text.
            page.wait_for_selector(f"#offline-outbox-list li:nth-child({kept})")
        _check_here(page, found, f"/issues/<id>/ ({language}) with notes waiting to send", viewport)
        page.goto(f"{live_server.url}/outreach/", wait_until="load")
        page.wait_for_selector("#offline-outbox-list li:nth-child(2)")
        _check_here(page, found, f"/outreach/ ({language}) with entries waiting to send", viewport)
        Issue.objects.filter(pk=issue.pk).update(status=Issue.Status.CLOSED)
        context.set_offline(False)
        page.goto(f"{live_server.url}/issues/{issue.pk}/", wait_until="load")
        page.wait_for_selector("#offline-outbox-list li.outbox-conflict:nth-child(2)")
        _check_here(page, found, f"/issues/<id>/ ({language}) with notes in conflict", viewport)
        context.close()
    assert not found, f"{len(found)} page views break WCAG 2.1 AA rules:\n" + _report(found)
