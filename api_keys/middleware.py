"""CORS for API keys: a storefront on another site calls the API from the shopper's browser with its search key.

A preflight (``OPTIONS`` with ``Access-Control-Request-Method``) to ``/api/`` is answered for any origin: it
carries no key, and the request that follows is checked with its key (``ApiKeyAuthentication``: a key with allowed
origins refuses others with a 403). A response to a request made with a key names the request's origin as allowed
when the key allows it; without a key there are no CORS headers (the storefront on the API's own site needs none).
Every API response varies with ``X-Api-Key`` and ``Authorization``, and one to a keyed request is private, so a CDN
never hands one key's (filtered) answer to another client.
"""

from django.http import HttpResponse
from django.utils.cache import patch_cache_control, patch_vary_headers

from .authentication import request_origin

PREFLIGHT_MAX_AGE_SECONDS = 600
ALLOWED_HEADERS = "X-Api-Key, Authorization, Content-Type"
EXPOSED_HEADERS = "X-Search-Id, X-Cache, X-Search-Mode, X-Similar-Source, Retry-After"


class ApiKeyCorsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/api/"):
            return self.get_response(request)
        if "HTTP_ORIGIN" not in request.META:
            return _keyed(request, self.get_response(request))
        if request.method == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in request.META:
            response = HttpResponse(status=204)
            response["Access-Control-Allow-Origin"] = request.META["HTTP_ORIGIN"]
            response["Access-Control-Allow-Methods"] = "GET, POST, PUT, PATCH, OPTIONS"
            response["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
            response["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE_SECONDS)
            patch_vary_headers(response, ["Origin"])
            return response
        response = self.get_response(request)
        key = getattr(request, "api_key", None)
        if key is not None and (not key.allowed_origins or request_origin(request) in key.allowed_origins):
            response["Access-Control-Allow-Origin"] = request.META["HTTP_ORIGIN"]
            response["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
            patch_vary_headers(response, ["Origin"])
        return _keyed(request, response)


def _keyed(request, response):
    """An answer depends on the key or token a request carries (a key's filters, a staff-only parameter): shared
    caches (a CDN) must keep answers apart by them, and keep an answer to a keyed request to that client alone."""
    patch_vary_headers(response, ["X-Api-Key", "Authorization"])
    if "HTTP_X_API_KEY" in request.META or "HTTP_AUTHORIZATION" in request.META:
        patch_cache_control(response, private=True)
    return response
