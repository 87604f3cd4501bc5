"""The ``Idempotency-Key`` request header of the API's create endpoints (``core.client_keys``).

A client that sends the same POST again (after a timeout, or from an offline queue) with the same
key gets the same 201 answer and nothing is written twice; the answer to the repeat carries
``Idempotent-Replayed: true``. A key that is not a UUID is a 400; one already used by another
user or for another kind of entry is a 409.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from core.api.schema import ErrorSerializer
from core.client_keys import client_key_parse

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    name=HEADER,
    type=OpenApiTypes.UUID,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "A UUID the client makes for this entry. Sent again with the same key (a retry, an offline "
        "queue's replay), the request writes nothing more and answers with the entry the first one "
        f"made (with `{REPLAYED_HEADER}: true`). A key used by another user or for another kind of "
        "entry is refused with 409 (`client_key_reused`)."
    ),
)


def conflict_response(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=ErrorSerializer, description=description)


def idempotency_key(request):
    """The request's key as a UUID, or None; a key that is not a UUID is a ValidationError (400)."""
    return client_key_parse(request.headers.get(HEADER), field=HEADER)


def mark_replayed(response, obj):
    if getattr(obj, "replayed", False):
        response[REPLAYED_HEADER] = "true"
    return response
