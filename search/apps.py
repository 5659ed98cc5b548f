from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = "Search"

    def ready(self) -> None:
        from . import receivers  # noqa: F401 - connects the cache warm-up to generation activation
