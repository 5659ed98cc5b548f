"""How the OpenAPI schema (drf-spectacular) describes API keys: an ``X-Api-Key`` header (a Bearer token works too).
Loaded by ``ApiKeysConfig.ready``."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "api_keys.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-Api-Key",
            "description": "A search-only key (storefronts) or an admin key (writes): `manage.py api_keys create`.",
        }
