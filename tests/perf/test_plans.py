"""The plan walker (tests/perf/plans.py) on plans written by hand: each rule it adds up by.

The same walker is checked against the real 200 000-issue table in test_list_plans.py (a whole
table count must be flagged); here each rule is shown on its own, without a database.
"""

from tests.perf.plans import is_checked, nodes, problems, rows_read, seq_scans


def _scan(kind, table="cases_issue", rows=0, loops=1, **extra):
    return {"Node Type": kind, "Relation Name": table, "Actual Rows": rows, "Actual Loops": loops, **extra}


def test_rows_are_what_a_node_returned_and_threw_away_times_its_loops():
    # PostgreSQL gives rows and removed rows per loop (averaged): 3 loops of 10 kept + 90 removed.
    node = _scan("Index Scan", rows=10, loops=3, **{"Rows Removed by Filter": 90})
    assert rows_read(node, "cases_issue") == 300


def test_every_node_of_the_tree_counts_subplans_included():
    plan = {
        "Node Type": "Nested Loop",
        "Actual Rows": 25,
        "Actual Loops": 1,
        "Plans": [
            _scan("Index Scan", table="cases_notification", rows=25),
            _scan("Index Scan", rows=1, loops=25, **{"Parent Relationship": "Inner"}),
            {
                "Node Type": "Aggregate",
                "Parent Relationship": "InitPlan",
                "Actual Rows": 1,
                "Actual Loops": 1,
                "Plans": [_scan("Seq Scan", rows=1000, **{"Parallel Aware": True}, loops=3)],
            },
        ],
    }
    assert len(list(nodes(plan))) == 5
    assert rows_read(plan, "cases_issue") == 25 + 3000
    assert rows_read(plan, "cases_notification") == 25
    assert len(seq_scans(plan, "cases_issue")) == 1
    assert seq_scans(plan, "cases_notification") == []


def test_a_bitmap_scan_counts_the_entries_its_indexes_gave_when_the_heap_kept_fewer():
    wide = {"Node Type": "Bitmap Index Scan", "Index Name": "a", "Actual Rows": 90000, "Actual Loops": 1}
    other = {"Node Type": "Bitmap Index Scan", "Index Name": "b", "Actual Rows": 40000, "Actual Loops": 1}
    heap = _scan(
        "Bitmap Heap Scan",
        rows=10,
        **{
            "Rows Removed by Index Recheck": 5,
            "Plans": [{"Node Type": "BitmapAnd", "Actual Rows": 0, "Actual Loops": 1, "Plans": [wide, other]}],
        },
    )
    assert rows_read(heap, "cases_issue") == 130000
    # A lossy bitmap: the heap examined more than the index entries said.
    lossy = _scan(
        "Bitmap Heap Scan",
        rows=10,
        **{
            "Rows Removed by Index Recheck": 7000,
            "Plans": [{"Node Type": "Bitmap Index Scan", "Index Name": "a", "Actual Rows": 0, "Actual Loops": 1}],
        },
    )
    assert rows_read(lossy, "cases_issue") == 7010


def test_a_node_never_executed_reads_nothing():
    assert rows_read(_scan("Seq Scan", rows=0, loops=0), "cases_issue") == 0


def test_only_plain_reads_naming_a_watched_table_are_explained():
    tables = ("cases_issue",)
    assert is_checked('SELECT COUNT(*) AS "__count" FROM "cases_issue"', tables)
    assert is_checked("  WITH x AS (SELECT 1) SELECT * FROM cases_issue, x", tables)
    assert not is_checked('SELECT * FROM "cases_issue_x"', tables)
    assert not is_checked('SELECT "cases_issue_id" FROM "cases_report"', tables)
    assert not is_checked('UPDATE "cases_issue" SET "status" = \'new\'', tables)
    assert not is_checked('SELECT * FROM "cases_issue" WHERE "id" = 1 FOR UPDATE', tables)
    assert not is_checked('SAVEPOINT "s1"', tables)


def test_no_problem_within_the_bound_and_no_sequential_scan():
    class Found:
        sql = "SELECT 1"
        rows = {"cases_issue": 5000}
        seq_scans = {"cases_issue": 0}

    assert problems([Found()], {"cases_issue": 5000}) == []
