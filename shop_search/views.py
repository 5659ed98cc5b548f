"""Operational endpoints of the project itself."""

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views import defaults
from django.views.static import serve

from .readiness import readiness


def _database_check() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        return f"error: {exc.__class__.__name__}"


def health(request):
    """Liveness: 200 when the process answers and reaches the database; Redis is reported but optional for reads.
    Whether this process has warmed up is ``/readyz``'s question."""
    checks = {"database": _database_check()}
    try:
        cache.set("healthz", "1", 5)
        checks["redis"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["redis"] = f"error: {exc.__class__.__name__}"
    status = 200 if checks["database"] == "ok" else 503
    return JsonResponse(checks, status=status)


def ready(request):
    """Readiness: 200 once this process has warmed up (``shop_search.readiness``: the active generation's models
    loaded and a query encoded through them, or no generation at all) and the database answers; before that 503
    with the ``reason``. Each process answers for itself."""
    body = readiness().as_dict()
    body["database"] = _database_check()
    if not body["ready"]:
        body["reason"] = body["detail"] + (f" ({body['error']})" if body["error"] else "")
    elif body["database"] != "ok":
        body["reason"] = f"database {body['database']}"
    return JsonResponse(body, status=503 if "reason" in body else 200)


def media(request, path: str):
    """Uploaded media (with ``SERVE_MEDIA``), from MEDIA_ROOT as it is at request time."""
    return serve(request, path, document_root=settings.MEDIA_ROOT)


# Django's own error pages (an unknown /api/ path, a request it refuses as suspicious, a crash) are HTML; under
# /api/ they get the API's JSON error shape instead (``handler400`` ... in urls.py).
def _api_error(request, status: int, detail: str, page):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": detail, "status": status}, status=status)
    return page()


def bad_request(request, exception):
    return _api_error(request, 400, "bad request", lambda: defaults.bad_request(request, exception))


def permission_denied(request, exception):
    return _api_error(request, 403, "forbidden", lambda: defaults.permission_denied(request, exception))


def page_not_found(request, exception):
    return _api_error(request, 404, "no such API endpoint", lambda: defaults.page_not_found(request, exception))


def server_error(request):
    return _api_error(request, 500, "server error (logged)", lambda: defaults.server_error(request))
