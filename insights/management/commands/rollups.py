"""``manage.py rollups``: the dashboard's summary tables by hand (the worker keeps them otherwise)."""

from django.core.management.base import BaseCommand, CommandError

from insights.rollups import rollups_advance_open, rollups_apply_all, rollups_rebuild, rollups_repair


class Command(BaseCommand):
    help = (
        "Keep the dashboard's summary tables: --apply folds in the change log and moves the open "
        "issues' overdue mark on to now (what the worker does every few seconds), --repair recomputes "
        "the last --days days from the raw rows and repairs any difference (nightly), --rebuild "
        "recomputes everything from the first issue."
    )

    def add_arguments(self, parser):
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument("--apply", action="store_true", help="fold in the change log, move the overdue mark on")
        action.add_argument("--repair", action="store_true", help="recompute a window and repair it")
        action.add_argument("--rebuild", action="store_true", help="recompute everything")
        parser.add_argument("--days", type=int, default=None, help="--repair's window (ROLLUP_REPAIR_DAYS)")

    def handle(self, *args, **options):
        if options["apply"]:
            changes = rollups_apply_all()
            fell_due = rollups_advance_open()
            self.stdout.write(
                f"{changes} changes folded in; overdue mark moved on ({fell_due} report days recomputed)."
            )
            return
        if options["days"] is not None and options["days"] < 1:
            raise CommandError("--days must be 1 or more.")

        def progress(done: int, total: int, month) -> None:
            self.stdout.write(f"  [{done}/{total}] {month:%Y-%m} recomputed")

        if options["rebuild"]:
            record = rollups_rebuild(progress=progress)
        else:
            record = rollups_repair(days=options["days"], progress=progress)
        repaired = sum(record.drift.values())
        self.stdout.write(
            self.style.SUCCESS(
                f"{record.first_day} to {record.last_day}: {record.rows_checked} summary rows, "
                f"{repaired} repaired" + (f" ({record.drift})" if repaired else "") + "."
            )
        )
