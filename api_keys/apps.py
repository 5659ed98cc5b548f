from django.apps import AppConfig


class ApiKeysConfig(AppConfig):
    name = "api_keys"
    verbose_name = "API keys"

    def ready(self):
        from . import receivers, schema  # noqa: F401 - key writes announced; the key header's OpenAPI description
