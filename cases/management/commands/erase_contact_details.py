"""``manage.py erase_contact_details``: apply the contact retention policy now (beat runs it daily).

Residents' names, emails and phone numbers are erased CONTACT_RETENTION_DAYS after
their issue is finished (cases.services.retention). Each batch is committed and
reported as it goes; an interrupted run is simply run again. ``--dry-run`` counts
what is due and changes nothing. The output holds counts only, never a detail.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cases.services.retention import DEFAULT_BATCH_SIZE, contact_details_due, contact_details_erase


class Command(BaseCommand):
    help = "Erase residents' contact details past the retention deadline (or, with --dry-run, count them)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count what is due; change nothing.")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            help=f"Issues per transaction (default {DEFAULT_BATCH_SIZE}).",
        )

    def handle(self, *args, dry_run=False, batch_size=DEFAULT_BATCH_SIZE, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be 1 or more.")
        now = timezone.now()
        days = settings.CONTACT_RETENTION_DAYS
        due = contact_details_due(now=now)
        cutoff = timezone.localtime(due["cutoff"]).strftime("%Y-%m-%d %H:%M %Z")
        self.stdout.write(f"Retention: {days} day(s) after an issue is finished; due: issues finished before {cutoff}.")
        if dry_run:
            self.stdout.write(
                f"Dry run — nothing is changed. Would erase the contact details of {due['reports']} report(s) "
                f"on {due['issues']} issue(s)."
            )
            return
        self.stdout.write(f"Erasing {due['reports']} report(s) on {due['issues']} issue(s)…")
        done = {"batches": 0, "reports": 0, "messages": 0, "cancelled": 0}

        def progress(batch):
            done["batches"] += 1
            done["reports"] += batch.reports
            done["messages"] += batch.messages
            done["cancelled"] += batch.cancelled
            self.stdout.write(
                f"  batch {done['batches']}: {batch.issues} issue(s), {batch.reports} report(s), "
                f"{batch.messages} outbox message(s) ({batch.cancelled} unsent, cancelled) — committed"
            )

        issues = contact_details_erase(now=now, batch_size=batch_size, progress=progress)
        self.stdout.write(
            self.style.SUCCESS(
                f"Done: contact details erased on {issues} issue(s) ({done['reports']} report(s), "
                f"{done['messages']} outbox message(s), {done['cancelled']} cancelled) in {done['batches']} batch(es)."
            )
        )
