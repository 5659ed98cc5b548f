"""Who is calling: ``X-Api-Key: <key>`` or ``Authorization: Bearer <key>``.

A search key identifies a storefront: the request stays anonymous (no user rights, no writes) with the key as
``request.auth``, which gives it its own rate limit and filters. An admin key acts as its staff user. A key that is
unknown or revoked is a 401, never a silent fall-back to anonymous; a key used from an origin it does not allow is
a 403. Refused requests count against the client's anonymous rate (429 once it is spent).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib.auth.models import AnonymousUser
from rest_framework import authentication, exceptions

from .models import ApiKey
from .services import api_key_find
from .throttling import refused_request_count


def request_key(request) -> str | None:
    """The key a request carries, if any (the header or a Bearer token)."""
    header = request.META.get("HTTP_X_API_KEY")
    if header:
        return header.strip()
    scheme, _, credentials = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return None


def request_origin(request) -> str:
    """The site a browser request came from: its Origin header, else the origin of its Referer ("" if neither)."""
    origin = request.META.get("HTTP_ORIGIN", "")
    if not origin or origin == "null":
        referer = urlsplit(request.META.get("HTTP_REFERER", ""))
        origin = f"{referer.scheme}://{referer.netloc}" if referer.scheme and referer.netloc else ""
    return origin.rstrip("/").lower()


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        raw = request_key(request)
        if raw is None:
            return None
        key = api_key_find(raw)
        if key is None:
            refused_request_count(request)
            raise exceptions.AuthenticationFailed("unknown or revoked API key")
        if key.allowed_origins:
            origin = request_origin(request)
            if origin not in key.allowed_origins:
                refused_request_count(request)
                raise exceptions.PermissionDenied(
                    f"this API key may be used from {', '.join(key.allowed_origins)} only, not from "
                    f"{origin or 'a request without an Origin or Referer'}"
                )
        request._request.api_key = key  # for the CORS headers (shop_search.middleware), outside DRF
        if key.scope == ApiKey.Scope.ADMIN:
            user = key.user
            if user is None or not user.is_active or not user.is_staff:
                raise exceptions.AuthenticationFailed("this admin key's user is no longer active staff")
            return user, key
        return AnonymousUser(), key

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'
