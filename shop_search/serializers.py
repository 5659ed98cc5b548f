"""Serializer bases shared by the apps."""

import copy

from rest_framework import serializers


class InputSerializer(serializers.Serializer):
    """A serializer that only validates request input. DRF deep-copies the declared fields for every instance (a
    fifth of a cached search's time); validating changes no field, so a shallow copy each is enough."""

    def get_fields(self):
        return {name: copy.copy(declared) for name, declared in self._declared_fields.items()}


def error_responses(*codes: int) -> dict:
    """OpenAPI responses for the error statuses an endpoint answers, each a JSON object ({field: [messages]} or
    {"detail": "..."}, with "status")."""
    from drf_spectacular.types import OpenApiTypes

    return dict.fromkeys(codes, OpenApiTypes.OBJECT)
