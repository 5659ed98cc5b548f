"""Serializer bases shared by the apps."""

import copy

from rest_framework import serializers


class InputSerializer(serializers.Serializer):
    """A serializer that only validates request input. DRF deep-copies the declared fields for every instance (a
    fifth of a cached search's time); validating changes no field, so a shallow copy each is enough."""

    def get_fields(self):
        return {name: copy.copy(declared) for name, declared in self._declared_fields.items()}


# What any API operation may answer: 400 (a NUL byte or too many parameters, ``ApiInputMiddleware``), 401 (an
# unknown or revoked API key; no key while anonymous search is off), 403 (a key used from an origin it does not
# allow, or a signed-in user without the rights), 429 (the rate limit).
EVERY_OPERATION_ERRORS = (400, 401, 403, 429)


def error_responses(*codes: int) -> dict:
    """OpenAPI responses for the error statuses an endpoint answers (``codes`` and ``EVERY_OPERATION_ERRORS``),
    each a JSON object ({field: [messages]} or {"detail": "..."}, with "status")."""
    from drf_spectacular.types import OpenApiTypes

    return dict.fromkeys(sorted({*EVERY_OPERATION_ERRORS, *codes}), OpenApiTypes.OBJECT)
