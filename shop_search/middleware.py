"""Middleware: ``Server-Timing: app;dur=<ms>`` on every response (the time Django spent, for clients and
benchmarks), and the one check of every text an API request carries (``ApiInputMiddleware``)."""

import contextlib
import json
import time

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import JsonResponse


class ServerTimingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        duration = (time.perf_counter() - started) * 1000
        existing = response.get("Server-Timing")
        timing = f"app;dur={duration:.2f}"
        response["Server-Timing"] = f"{timing}, {existing}" if existing else timing
        return response


class ApiInputMiddleware:
    """One check for every text an API request carries towards the database: the path, every query parameter,
    every form field and every string of a JSON body. PostgreSQL cannot store a NUL character, and a lone UTF-16
    surrogate is no text at all: either is a 400 with the field that held it, before any view runs (``DataError``
    500s otherwise, wherever a view forgot). A JSON body must be an object: every API endpoint takes one. A body over
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is a 413 and more than ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` fields a 400, in the API's
    JSON shape, before anything reads them (Django's own answers are HTML pages, or a 500 after a half-read form)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            if limit is not None and _content_length(request) > limit:
                detail = f"request body too large: at most {limit} bytes ({limit / 2**20:g} MB)"
                return JsonResponse({"detail": detail, "status": 413}, status=413)
            try:
                errors = request_text_errors(request)
            except TooManyFieldsSent:
                detail = f"too many query parameters or form fields: at most {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS}"
                return JsonResponse({"detail": detail, "status": 400}, status=400)
            if errors:
                return JsonResponse({**errors, "status": 400}, status=400)
        return self.get_response(request)


def _content_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def request_text_errors(request) -> dict[str, list[str]]:
    """{field: [message]} for the first bad text of ``request`` (path, query, form or JSON body); {} when clean."""
    if _bad_text(request.path):
        return {"path": [BAD_TEXT]}
    for key, values in request.GET.lists():
        if _bad_text(key) or any(_bad_text(value) for value in values):
            return {key if not _bad_text(key) else "query": [BAD_TEXT]}
    content_type = request.META.get("CONTENT_TYPE", "").lower()  # media types are case-insensitive, as DRF reads them
    if request.method not in ("POST", "PUT", "PATCH"):
        return {}
    if content_type.startswith("application/json"):
        try:
            body = json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError):
            return {}  # DRF's parser answers malformed JSON with its own 400
        except RequestDataTooBig:
            return {}  # the view answers 413
        except RecursionError:
            return {"non_field_errors": ["the JSON body is nested too deeply"]}
        if not isinstance(body, dict):
            return {"non_field_errors": ["the request body must be a JSON object"]}
        field = _first_bad_field(body)
        return {field: [BAD_TEXT]} if field else {}
    form = content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded"))
    if form and request.method == "POST":
        try:
            fields = request.POST
        except (RequestDataTooBig, ValueError):
            return {}
        for key, values in fields.lists():
            if _bad_text(key) or any(_bad_text(value) for value in values):
                return {key if not _bad_text(key) else "form": [BAD_TEXT]}
        return {}
    # Any other body is read here, even one the view will refuse unread (a 401, a 415): a body left unread on a
    # kept-alive connection would be taken for the next request by some servers.
    with contextlib.suppress(RequestDataTooBig):
        request.body  # noqa: B018 - read for its side effect
    return {}


BAD_TEXT = "contains a NUL character or invalid text"


def _bad_text(text: str) -> bool:
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return True
    return False


def _first_bad_field(value) -> str | None:
    """The dotted path of the first string (or key) in a JSON value that ``_bad_text`` refuses (walked with a stack:
    a deeply nested body cannot exhaust Python's recursion)."""
    stack = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if _bad_text(item):
                return path or "body"
        elif isinstance(item, dict):
            children = []
            for key, child in item.items():
                if _bad_text(str(key)):
                    return path or "body"
                children.append((child, f"{path}.{key}" if path else str(key)))
            stack.extend(reversed(children))
        elif isinstance(item, list):
            stack.extend(reversed([(child, f"{path}[{index}]" if path else f"[{index}]")
                                   for index, child in enumerate(item)]))  # fmt: skip
    return None
