"""Dashboard, transparency and the stats API at city scale, read from the summary tables.

For each page the real view is rendered through Django's test Client against the bench
database — URL routing, middleware, session and permission checks, every query, the template
— ``BENCH_DASHBOARD_RUNS`` times (default 25) after two warm-up requests, the pages in turns
(one request of each, then the next round), so that a slower minute of a shared machine weighs
on every page alike. After each request, the floor: the same template (or, for the API, the
same JSON renderer) given the figures the page computed, already in memory — what the page
would cost if its figures were free.

Pages, anchored at the bench clock (``bench_now``):

- the dashboard, default period (the last twelve weeks): whole city (``area=city``), the
  supervisor's own area (the page as it opens), one district; a whole year of the city;
- ``/api/v1/stats/`` for the same twelve weeks;
- the public transparency page (a year), uncached (its cache cleared before every request) and
  cached.

Targets (issue 17): every page's 95th percentile ≤ 100 ms at each size; the year ≤ 1.3× the
twelve weeks; at 5 000 000 issues each page ≤ 1.2× its figure at 1 000 000. The sizes
(``BENCH_DASHBOARD_SIZES``, default ``1000000,5000000``, and ``BENCH_ISSUES``; a size whose
database is not loaded is loaded first, as ``benchmarks.http`` does) are measured in the same
run, each in a process of its own pointed at its database, as a web worker serves its pages:
``python -m benchmarks.dashboard <issues>``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = int(os.environ.get("BENCH_DASHBOARD_RUNS", "25"))
WARMUP = 2
P95_TARGET = 0.100
YEAR_RATIO = 1.3
SIZE_RATIO = 1.2
MARK = "BENCH_DASHBOARD_JSON "

# (key, label, target on the 95th percentile)
PAGES = (
    ("page", "Dashboard, last 12 weeks, whole city", True),
    ("area", "Dashboard, last 12 weeks, the supervisor's own area (as it opens)", True),
    ("district", "Dashboard, last 12 weeks, one district", True),
    ("year", "Dashboard, whole year", True),
    ("stats", "/api/v1/stats/, last 12 weeks", True),
    ("transparency_uncached", "Transparency (a year), uncached", True),
    ("transparency_cached", "Transparency, figures cached", False),
)


def _sizes() -> list[int]:
    from benchmarks import scale

    raw = os.environ.get("BENCH_DASHBOARD_SIZES", "1000000,5000000")
    return [scale.parse_issues(part) for part in raw.split(",") if part.strip()]


class _Captured:
    """The last template render a view asked for (request, template, context), to render again."""

    def __init__(self):
        self.call = None

    def __enter__(self):
        from insights import views

        real = views.render

        def capturing(request, template_name, context=None, *args, **kwargs):
            self.call = (request, template_name, context)
            return real(request, template_name, context, *args, **kwargs)

        self._real, views.render = real, capturing
        return self

    def __exit__(self, *exc):
        from insights import views

        views.render = self._real


def _floor(response, captured: _Captured):
    """A callable that does only what the page does once its figures are in memory."""
    from django.shortcuts import render
    from rest_framework.renderers import JSONRenderer

    if getattr(response, "data", None) is not None:
        data = response.data
        renderer = JSONRenderer()
        return lambda: renderer.render(data)
    request, template_name, context = captured.call
    return lambda: render(request, template_name, context)


def _ready(client, url: str, *, before=None):
    """Warm a page up and capture its floor: what ``_measure`` then times, in turns with the others."""
    for _ in range(WARMUP):
        if before:
            before()
        client.get(url)
    with _Captured() as captured:
        if before:
            before()
        response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")
    return _floor(response, captured)


def _measure(pages: dict) -> dict:
    """Every page ``RUNS`` times, in turns (page after page, each followed by its floor), so that a
    slower minute of a shared machine falls on every page alike and the ratios between pages hold;
    {key: timings}."""
    from benchmarks.figures import percentile

    floors = {key: _ready(client, url, before=before) for key, (client, url, before) in pages.items()}
    page_times = {key: [] for key in pages}
    floor_times = {key: [] for key in pages}
    for _ in range(RUNS):
        for key, (client, url, before) in pages.items():
            if before:
                before()
            started = time.perf_counter()
            answered = client.get(url)
            page_times[key].append(time.perf_counter() - started)
            if answered.status_code != 200:
                raise RuntimeError(f"{url} answered {answered.status_code}")
            started = time.perf_counter()
            floors[key]()
            floor_times[key].append(time.perf_counter() - started)
    return {
        key: {
            "url": url,
            "runs": RUNS,
            "median": statistics.median(page_times[key]),
            "p95": percentile(page_times[key], 95),
            "floor_median": statistics.median(floor_times[key]),
            "floor_p95": percentile(floor_times[key], 95),
        }
        for key, (_client, url, _before) in pages.items()
    }


def measure() -> dict:
    """Every page of ``PAGES`` on the database Django points at: {key: timings}."""
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from benchmarks import data

    now = data.bench_now()
    today = timezone.localtime(now).date()
    start = today - timedelta(weeks=11)
    start -= timedelta(days=start.weekday())
    period = f"start={start.isoformat()}&end={today.isoformat()}"
    year = f"start={(today - timedelta(days=364)).isoformat()}&end={today.isoformat()}"
    # Steady state: the worker has moved the open tables' overdue mark on (it does every
    # ROLLUP_APPLY_SECONDS; nothing runs it here), and the visibility map is set.
    from insights.rollups import rollups_advance_open

    rollups_advance_open()
    # Steady state for the tables too: autovacuum has set their visibility maps (a migration or
    # the load just wrote them), so the readers' index-only scans read no table pages.
    from insights.rollups import TABLES

    with connection.cursor() as cursor:
        for table in ["cases_issue", *sorted({model._meta.db_table for model, _, _ in TABLES.values()})]:
            cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(table)}")
    supervisor = get_user_model().objects.filter(groups__name="Supervisor", is_active=True).order_by("pk").first()
    if supervisor is None:
        raise RuntimeError("bench data has no supervisor")
    staff = Client()
    staff.force_login(supervisor)
    public = Client()
    urls = {
        # The dashboard opens on the supervisor's own area (five neighborhoods for sergeant1);
        # ``area=city`` is the whole city, as the switch above the filters asks for it.
        "page": (staff, f"/dashboard/?{period}&area=city", None),
        "area": (staff, f"/dashboard/?{period}", None),
        "district": (staff, f"/dashboard/?{period}&district=North", None),
        "year": (staff, f"/dashboard/?{year}&area=city", None),
        "stats": (staff, f"/api/v1/stats/?{period}", None),
        "transparency_uncached": (public, "/transparency/", cache.clear),
        "transparency_cached": (public, "/transparency/", None),
    }
    measured = _measure(urls)
    for key, timings in measured.items():
        print(f"[dashboard] {key}: p95 {timings['p95'] * 1000:.1f} ms", flush=True)
    return measured


def _other_size(size: int) -> dict:
    """Measure another size in a process of its own, pointed at that size's database."""
    from benchmarks import scale

    url = scale.database_url(size)
    env = {**os.environ, "BENCH_ISSUES": str(size), "BENCH_DATABASE_URL": url}
    env.pop("BENCH_RELOAD", None)
    loaded = subprocess.run([sys.executable, "-m", "benchmarks.run", "--load-only"], cwd=ROOT, env=env, check=False)
    if loaded.returncode != 0:
        raise RuntimeError(f"readying {scale.spelled(size)} issues failed (exit {loaded.returncode})")
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.dashboard", str(size)],
        cwd=ROOT,
        env=env,
        check=False,
        stdout=subprocess.PIPE,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the dashboard benchmark at {scale.spelled(size)} issues failed (exit {done.returncode})")
    lines = [line for line in done.stdout.splitlines() if line.startswith(MARK)]
    print("\n".join(line for line in done.stdout.splitlines() if not line.startswith(MARK)), flush=True)
    return json.loads(lines[-1][len(MARK) :])


def run(results: dict) -> None:
    from benchmarks import scale
    from benchmarks.figures import add_figure

    # Every size in a process of its own, as a web worker is: the run's own process carries the
    # other benchmarks' objects, which its garbage collector walks (measured at 1 000 000 issues,
    # p95 162 ms in this process against ~100 ms in a process of its own, the same page).
    by_size = {}
    for size in sorted({scale.issues_asked(), *_sizes()}):
        print(f"[dashboard] {scale.spelled(size)} issues", flush=True)
        by_size[size] = _other_size(size)
    reference = min(by_size)
    for size, measured in sorted(by_size.items()):
        tag = scale.label(size)
        for key, label, targeted in PAGES:
            m = measured[key]
            add_figure(
                results,
                f"dashboard.{tag}.{key}_p95",
                label=f"{label}, {scale.spelled(size)} issues: 95th percentile",
                value=m["p95"],
                baseline_label="the same template (or JSON) rendered with its figures in memory (95th percentile)",
                baseline_value=m["floor_p95"],
                target={"max_value": P95_TARGET} if targeted else None,
                extra={"runs": m["runs"], "url": m["url"], "median": round(m["median"], 6)},
            )
        add_figure(
            results,
            f"dashboard.{tag}.year_vs_12_weeks",
            label=f"Dashboard, a whole year against 12 weeks, {scale.spelled(size)} issues (95th percentiles)",
            value=measured["year"]["p95"],
            baseline_label="the 12-week page (95th percentile)",
            baseline_value=measured["page"]["p95"],
            target={"max_ratio": YEAR_RATIO},
        )
        if size != reference:
            for key, label, targeted in PAGES:
                if not targeted:
                    continue
                add_figure(
                    results,
                    f"dashboard.{tag}_vs_{scale.label(reference)}.{key}",
                    label=f"{label}: {scale.spelled(size)} against {scale.spelled(reference)} issues (p95)",
                    value=measured[key]["p95"],
                    baseline_label=f"the same page at {scale.spelled(reference)} issues",
                    baseline_value=by_size[reference][key]["p95"],
                    target={"max_ratio": SIZE_RATIO},
                )


def main() -> int:
    """``python -m benchmarks.dashboard <issues>``: measure one size, print the timings as JSON."""
    from benchmarks import scale

    size = scale.parse_issues(sys.argv[1])
    os.environ["BENCH_ISSUES"] = str(size)
    os.environ["DATABASE_URL"] = scale.database_url(size)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    print(MARK + json.dumps(measure()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
