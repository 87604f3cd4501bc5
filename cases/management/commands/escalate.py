"""``manage.py escalate``: run one escalation sweep now (Celery beat runs it every ESCALATION_SWEEP_SECONDS).

``--dry-run`` prints what the sweep would do — every due escalation level and
every hot spot — and changes nothing, not even the SweepRun log.
"""

from collections import Counter

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from cases.escalation.sweep import escalation_sweep_run, escalations_due, hotspots_due
from cases.models import Category, Issue
from partners.models import Neighborhood


class Command(BaseCommand):
    help = "Run one escalation sweep (or, with --dry-run, print what it would do)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Print what would happen; change nothing.")
        parser.add_argument("--limit", type=int, default=50, help="Dry run: list at most this many escalations.")
        parser.add_argument("--batch-size", type=int, default=None, help="Issues per transaction (default 5000).")
        parser.add_argument("--now", help="Pretend it is this ISO 8601 time (for a dry run of the future).")

    def handle(self, *args, dry_run=False, limit=50, batch_size=None, now=None, **options):
        moment = timezone.now()
        if now:
            moment = parse_datetime(now)
            if moment is None:
                raise CommandError(f"--now: not an ISO 8601 date-time: {now!r}")
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment)
        if dry_run:
            self._dry_run(moment, limit)
            return
        if now:
            raise CommandError("--now is only for --dry-run; a real sweep runs at the current time.")
        result = escalation_sweep_run(batch_size=batch_size)
        self.stdout.write(
            self.style.SUCCESS(
                f"Sweep done: {result.escalations} escalation(s) on {result.issues_escalated} issue(s), "
                f"{result.hotspots} hot spot(s), {result.problems_opened} problem(s) opened, "
                f"{result.notifications} notification(s) queued, in {result.batches} batch(es)."
            )
        )
        for action, count in sorted(result.by_action.items()):
            self.stdout.write(f"  {action}: {count}")

    def _dry_run(self, now, limit):
        due = escalations_due(now)
        spots = hotspots_due(now)
        self.stdout.write(f"Dry run at {now.isoformat()} — nothing is changed.")
        issues = {i.pk: i for i in Issue.objects.filter(pk__in={d.issue_id for d in due[:limit]}).only("tracking_code")}
        self.stdout.write(
            f"Would escalate {len({d.issue_id for d in due})} issue(s) with {len(due)} escalation level(s):"
        )
        for item in due[:limit]:
            code = issues[item.issue_id].tracking_code if item.issue_id in issues else item.issue_id
            self.stdout.write(
                f"  {code}: level {item.level} ({item.action}), {item.hours_overdue} hours overdue, cycle {item.cycle}"
            )
        if len(due) > limit:
            self.stdout.write(f"  … and {len(due) - limit} more (--limit to list more).")
        for action, count in sorted(Counter(d.action for d in due).items()):
            self.stdout.write(f"  total {action}: {count}")
        work = [s for s in spots if s.loose or s.problem_id is None]
        self.stdout.write(f"Would handle {len(work)} hot spot(s):")
        categories = dict(Category.objects.filter(pk__in={s.category_id for s in work}).values_list("pk", "name_en"))
        places = dict(Neighborhood.objects.filter(pk__in={s.neighborhood_id for s in work}).values_list("pk", "name"))
        for spot in work:
            what = f"join problem #{spot.problem_id}" if spot.problem_id else "open a problem"
            self.stdout.write(
                f"  {categories.get(spot.category_id)} in {places.get(spot.neighborhood_id)}: {spot.count} open "
                f"issue(s) within {spot.window_hours} hours (threshold {spot.threshold}), "
                f"{spot.loose} to group → {what}"
            )
