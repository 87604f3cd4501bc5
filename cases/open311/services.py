"""The one Open311 write: a client's service request becomes an Issue and its Report."""

from __future__ import annotations

import secrets

from django.core.files.base import ContentFile
from django.db import transaction

from cases.models import ApiClient, Category, Issue, Report
from cases.services import issue_submit
from partners.models import Neighborhood


def new_open311_token() -> str:
    return secrets.token_urlsafe(18)


@transaction.atomic
def open311_request_submit(
    *,
    client: ApiClient,
    category: Category,
    text: str,
    language: str,
    lat: float | None = None,
    lng: float | None = None,
    address: str = "",
    address_id: str = "",
    neighborhood: Neighborhood | None = None,
    reporter_name: str = "",
    reporter_email: str = "",
    reporter_phone: str = "",
    attributes: dict | None = None,
    media_url: str = "",
    photo: ContentFile | None = None,
) -> Report:
    """File a request through the same intake as the web form (channel Open311).

    A resident who gave an email or phone to the 311 app gave it so the
    department can follow up on this request: that is the consent recorded.
    With no contact at all the report is stored as anonymous.

    ``photo`` is the request's ``media`` file, already checked and stripped of its
    metadata (cases.photos.photo_clean), kept like the web form's photo: staff see
    it, the public only once a moderator approves it. ``media_url`` is kept as a
    link and never fetched.
    """
    has_contact = bool(reporter_name or reporter_email or reporter_phone)
    report = issue_submit(
        category=category,
        text=text,
        channel=Report.Channel.OPEN311,
        language=language,
        lat=lat,
        lng=lng,
        address=address,
        neighborhood=neighborhood,
        anonymous=not has_contact,
        reporter_name=reporter_name,
        reporter_email=reporter_email,
        reporter_phone=reporter_phone,
        contact_consent=bool(reporter_email or reporter_phone),
        attributes=attributes or {},
        open311_client=client,
        open311_token=new_open311_token(),
        media_url=media_url,
        photo=photo,
    )
    if address_id:
        Issue.objects.filter(pk=report.issue_id).update(address_id=address_id)
        report.issue.address_id = address_id
    return report
