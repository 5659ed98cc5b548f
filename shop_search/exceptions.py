"""API errors: DRF's handler, with every error body shaped ``{"errors": {field: [messages]}}`` or
``{"detail": "..."}`` as DRF gives them, plus the status code in the body for clients that log bodies only."""

from rest_framework.views import exception_handler


def api_exception_handler(exc, context):
    response = exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict):
        response.data.setdefault("status", response.status_code)
    return response
