"""The embedded mode's console email backend writes no contact details to the log."""

import io

from django.core.mail import EmailMessage, EmailMultiAlternatives

from config.mail import MaskedConsoleEmailBackend, mask_address, mask_contacts
from tests.sqlite import checked_run_on_sqlite

# make run's default: SQLite, the file broker, no EMAIL_HOST and no EMAIL_BACKEND (the
# suite sets locmem in os.environ; an empty value is "unset" to the settings).
EMBEDDED_RECEIPT = r"""
import contextlib, io, json
import django
django.setup()
from django.conf import settings
from django.core.management import call_command
call_command("migrate", verbosity=0)
from tests import factories as f
from cases import services
from cases.models import OutboxMessage
from cases.notifications.drain import outbox_drain

f.NeighborhoodFactory(boundary=f.square(39.0, -94.6, 0.01))
report = services.issue_submit(
    category=f.CategoryFactory(), text="Needles in the park", lat=39.005, lng=-94.595,
    reporter_name="Maria Lopez", reporter_email="maria.lopez@example.org", reporter_phone="816-555-0199",
)
console = io.StringIO()
with contextlib.redirect_stdout(console):
    drained = outbox_drain()
print(json.dumps({
    "backend": settings.EMAIL_BACKEND, "drained": drained, "console": console.getvalue(),
    "code": report.issue.tracking_code,
    "states": list(OutboxMessage.objects.values_list("recipient_email", "state")),
}))
"""


def test_the_default_embedded_backend_prints_a_residents_receipt_without_their_address(tmp_path):
    result = checked_run_on_sqlite(EMBEDDED_RECEIPT, tmp_path, EMAIL_BACKEND="", EMAIL_HOST="", LOG_LEVEL="INFO")
    assert result["backend"] == "config.mail.MaskedConsoleEmailBackend"
    assert result["drained"] == {"sent": 1, "retrying": 0, "failed": 0}
    assert result["states"] == [["maria.lopez@example.org", "sent"]]
    printed = result["console"]
    assert f"Subject: We received your report {result['code']}" in printed
    assert "To: m***@e***.org" in printed
    assert f"/report/{result['code']}/" in printed  # the body is left readable
    for secret in ("maria", "lopez", "example.org", "Maria Lopez", "555-0199"):
        assert secret.lower() not in printed.lower()


def test_every_recipient_header_is_masked_and_the_message_left_as_it_was():
    stream = io.StringIO()
    backend = MaskedConsoleEmailBackend(stream=stream)
    message = EmailMultiAlternatives(
        subject="Recibimos su reporte CG-ABCD-2345",
        body="Llame al (816) 555-0199 o escriba a juan.perez@correo.mx. Vence 2026-05-04 08:00.\n"
        "https://cg.example.org/report/CG-ABCD-2345/ — 1,234 hours, issue /issues/1234567/",
        from_email="CommonGround <noreply@commonground.local>",
        to=["María López <maría.lopez@example.org>", "r@example.net"],
        cc=["vecino@barrio.org"],
        bcc=["hidden@example.com"],
        reply_to=["Juan <juan.perez@correo.mx>"],
        headers={"X-Case": "CG-ABCD-2345"},
    )
    message.attach_alternative("<p>juan.perez@correo.mx, +52 55 1234 5678</p>", "text/html")
    assert backend.send_messages([message]) == 1
    printed = stream.getvalue()
    assert "To: m***@e***.org, r***@e***.net" in printed
    assert "Cc: v***@b***.org" in printed
    assert "Reply-To: j***@c***.mx" in printed
    assert "Subject: Recibimos su reporte CG-ABCD-2345" in printed
    assert "Llame al [phone ***] o escriba a j***@c***.mx. Vence 2026-05-04 08:00." in printed
    assert "https://cg.example.org/report/CG-ABCD-2345/ — 1,234 hours, issue /issues/1234567/" in printed
    assert "<p>j***@c***.mx, [phone ***]</p>" in printed
    assert "X-Case: CG-ABCD-2345" in printed
    for secret in ("López", "lopez", "r@example.net", "vecino", "hidden", "juan", "Juan", "555-0199", "1234 5678"):
        assert secret not in printed
    # What the caller handed over is untouched (a real backend would still need the addresses).
    assert message.to == ["María López <maría.lopez@example.org>", "r@example.net"]
    assert message.body.startswith("Llame al (816) 555-0199")
    assert message.alternatives[0].content.startswith("<p>juan.perez@correo.mx")


def test_a_plain_message_through_the_backend_counts_and_masks():
    stream = io.StringIO()
    sent = MaskedConsoleEmailBackend(stream=stream).send_messages(
        [EmailMessage("Escalated", "Level 1", "noreply@cg.local", ["boss@pd.example.org"])]
    )
    assert sent == 1 and "To: b***@p***.org" in stream.getvalue() and "boss" not in stream.getvalue()


def test_masks():
    assert mask_address("maria.lopez@example.org") == "m***@e***.org"
    assert mask_address("x@localhost") == "x***@l***"
    assert mask_address("not-an-address") == "n***"
    assert mask_contacts("") == ""
    for phone in ("816-555-0199", "(816) 555-0199", "816.555.0199", "8165550199", "555-0199", "+1 816 555 0199"):
        assert mask_contacts(f"call {phone} today") == "call [phone ***] today", phone
    for kept in ("2026-05-04", "2026-05-04 08:00", "CG-ABCD-2345", "/issues/1234567/", "1,234 hours", "level 2"):
        assert mask_contacts(kept) == kept
