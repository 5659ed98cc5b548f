from django.apps import AppConfig


class ApiKeysConfig(AppConfig):
    name = "api_keys"
    verbose_name = "API keys"

    def ready(self):
        from . import schema  # noqa: F401 - registers the OpenAPI description of the key header
