"""The schema class of the REST API: documents the one error shape on every
operation, with exactly the error statuses that operation can return.

Kept apart from ``core.api.common`` because drf-spectacular's AutoSchema
imports DRF's views, which import the throttle classes defined there.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from rest_framework import permissions, serializers

from core.api.common import MAX_ID


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable error code, e.g. invalid, not_found, throttled.")
    message = serializers.CharField(help_text="Human-readable summary.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Per-field messages (dotted paths for nested input); empty unless the input was invalid.",
    )
    retry_after = serializers.IntegerField(
        required=False, help_text="Seconds to wait before retrying (throttled responses only)."
    )


class ErrorSerializer(serializers.Serializer):
    """Every error the API returns has this shape."""

    error = ErrorBodySerializer()


class ApiAutoSchema(AutoSchema):
    """Documents the error responses each operation can really return, all in one shape."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        parameters = operation.get("parameters", [])
        for parameter in parameters:
            # Path ids are matched by [0-9]+ in the URL; say what they are: positive integers.
            if parameter.get("in") == "path" and parameter.get("schema", {}).get("pattern") == "^[0-9]+$":
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
        names = {p.get("name") for p in parameters if p.get("in") == "query"}
        # Filters refuse bad values (400); a bad page is a 404, unknown orderings are ignored.
        has_filters = bool(names - {"format", "ordering", "page", "page_size"})
        has_path = any(p.get("in") == "path" for p in parameters)
        has_body = "requestBody" in operation
        is_public = all(isinstance(p, permissions.AllowAny) for p in self.view.get_permissions())
        errors = {
            "400": (
                has_filters or has_body or self.method != "GET",
                "The input is invalid, or the action does not fit the object's state; `fields` says which and why.",
            ),
            "401": (True, "Not signed in, or the token is unknown or belongs to a deactivated user."),
            "403": (not is_public, "Signed in, but this user may not do this."),
            "404": (
                has_path or bool(names & {"page", "format"}),
                "No such object visible to this user, no such page, or no such format.",
            ),
            "415": (has_body, "The request body is not JSON."),
            "429": (True, "Too many requests; wait `retry_after` seconds."),
        }
        responses = operation.setdefault("responses", {})
        for code, (applies, description) in errors.items():
            if applies and code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code)
                response["description"] = description
                responses[code] = response
        return operation
