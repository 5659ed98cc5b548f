"""Operational endpoints of the project itself."""

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.static import serve


def health(request):
    """Liveness and readiness: 200 when the database answers; Redis is reported but optional for reads."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        checks["database"] = f"error: {exc.__class__.__name__}"
    try:
        cache.set("healthz", "1", 5)
        checks["redis"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["redis"] = f"error: {exc.__class__.__name__}"
    status = 200 if checks["database"] == "ok" else 503
    return JsonResponse(checks, status=status)


def media(request, path: str):
    """Uploaded media (with ``SERVE_MEDIA``), from MEDIA_ROOT as it is at request time."""
    return serve(request, path, document_root=settings.MEDIA_ROOT)
