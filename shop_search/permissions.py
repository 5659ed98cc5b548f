"""Who may use the storefront operations (search, photo search, similar items, catalog reads, events): the default
permission of every API view (settings ``REST_FRAMEWORK``), and the one of the storefront's POST operations."""

from django.conf import settings
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import BasePermission


class StorefrontAccess(BasePermission):
    """Anyone while anonymous search is on (``SEARCH_ALLOW_ANONYMOUS``, the default); otherwise a client with an API
    key (any scope), a staff token or a signed-in user."""

    message = "an API key is required: send it as X-Api-Key (anonymous search is off on this server)"

    def has_permission(self, request, view) -> bool:
        if settings.SEARCH_ALLOW_ANONYMOUS:
            return True
        if request.auth is not None or (request.user and request.user.is_authenticated):
            return True
        raise NotAuthenticated(self.message)  # DRF's own 401 would not say what to send
