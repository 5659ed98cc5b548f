from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = "Search"

    def ready(self) -> None:
        from . import receivers  # noqa: F401 - product changes and deletions, the cache warm-up after activation
