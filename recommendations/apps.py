from django.apps import AppConfig


class RecommendationsConfig(AppConfig):
    name = "recommendations"
    verbose_name = "Recommendations"

    def ready(self) -> None:
        from . import receivers  # noqa: F401 - computes similar-item lists after an activation
