"""``manage.py mask_public_text``: write the public copies of existing rows (see cases.redaction).

Issues' public descriptions, reports' public texts and public timeline messages, in
batches by id, one UPDATE per batch, each batch committed on its own: it can be
stopped and run again, and a second run finds nothing to do. ``--redo`` masks every
row again from the original text (after the masker learned a new shape; a
moderator's hand edits of a public copy are then replaced).
"""

from django.core.management.base import BaseCommand, CommandError

from cases.models import Event, Issue, Report
from cases.redaction import public_copies_fill


class Command(BaseCommand):
    help = "Mask emails, phone numbers and names in the public copies of existing issues, reports and events."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=1000, help="Rows per UPDATE (default 1000).")
        parser.add_argument(
            "--redo", action="store_true", help="Mask every row again, even those whose public copy is written."
        )

    def handle(self, *args, batch_size=1000, redo=False, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")

        def progress(model, last_id, max_id, done):
            self.stdout.write(f"{model}: up to id {last_id} of {max_id}, {done} written")

        done = public_copies_fill(
            issue_model=Issue, report_model=Report, event_model=Event, batch_size=batch_size, redo=redo, out=progress
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Done: {done['issue']} issue(s), {done['report']} report(s), {done['address']} address(es), "
                f"{done['event']} public event(s) written."
            )
        )
