"""The OpenAPI schema's view of who may call an operation (drf-spectacular's ``AutoSchema``, settings
``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]``): a storefront operation (``StorefrontAccess``) needs no credentials
while anonymous search is on, so its security requirements include the empty one."""

from django.conf import settings
from drf_spectacular import openapi

from .permissions import StorefrontAccess


class AutoSchema(openapi.AutoSchema):
    def get_auth(self):
        auths = super().get_auth()
        storefront = any(isinstance(permission, StorefrontAccess) for permission in self.view.get_permissions())
        if storefront and settings.SEARCH_ALLOW_ANONYMOUS and {} not in auths:
            auths.append({})
        return auths
