from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "quality"
    verbose_name = "Catalog quality"

    def ready(self) -> None:
        from . import receivers  # noqa: F401 - a newly active generation gets its quality report
