"""The dashboard's figures on SQLite, the embedded database of ``make run``.

PostgreSQL groups the scoped issues with GROUPING SETS; SQLite has none and runs the
same groupings as UNION ALL branches (and its own median). This builds the known data set
(see conftest) in a subprocess on a fresh SQLite file and checks the same hand-computed
figures as ``test_figures``.
"""

import pytest

from tests.sqlite import checked_run_on_sqlite

SCENARIO = r"""
import json
import django
django.setup()
import time_machine
from django.core.management import call_command
call_command("migrate", verbosity=0)
from insights.figures.issues import DashboardScope, feedback_figures, issue_figures
from tests.insights.conftest import NOW, at, build_known
with time_machine.travel(NOW, tick=False):
    known = build_known()
    f = issue_figures(DashboardScope(start=at(5, 1), end=at(6, 16), now=NOW))
    a = DashboardScope(start=at(5, 1), end=at(6, 16), now=NOW, neighborhood_id=known.a.pk)
    print(json.dumps({
        "totals": [f.reported, f.open, f.overdue, f.escalated, f.waiting, f.finished, f.within_sla, f.crime],
        "median": f.median_days,
        "a": [f.by_neighborhood[known.a.pk][k] for k in ("reported", "open", "overdue", "finished")],
        "officer": f.by_officer[known.officer.pk]["open"],
        "officers": sorted(k for k in f.by_officer),
        "open_by_category": {str(k): v["open"] for k, v in f.by_category.items()},
        "graffiti": known.graffiti.pk, "drugs": known.drugs.pk, "officer_id": known.officer.pk,
        "new": sum(f.new_by_week.values()),
        "finished_weeks": sum(v["finished"] for v in f.finished_by_week.values()),
        "feedback_a": feedback_figures(a)["responses"],
    }))
"""


@pytest.mark.slow
def test_dashboard_figures_on_sqlite_match_the_hand_computed_values(tmp_path):
    result = checked_run_on_sqlite(SCENARIO, tmp_path)
    assert result["totals"] == [8, 4, 2, 2, 2, 5, 2, 1]
    assert result["median"] == pytest.approx(3.0)
    assert result["a"] == [4, 2, 1, 2]
    # Only assigned issues have a workload row (no row for "nobody").
    assert result["officers"] == [result["officer_id"]] and result["officer"] == 1
    assert result["open_by_category"] == {str(result["graffiti"]): 2, str(result["drugs"]): 2}
    assert result["new"] == 8 and result["finished_weeks"] == 5
    assert result["feedback_a"] == 3
