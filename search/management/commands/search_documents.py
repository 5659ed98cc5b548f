"""``python manage.py search_documents``: rebuild every search document, e.g. after changing
``SEARCH_TEXT_CONFIG`` (``--check``: only say whether they follow the setting; ``--if-stale``: rebuild only then;
``--async``: on the workers, with progress on the admin's facet setup page)."""

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from search.documents import (
    documents_current,
    search_documents_refresh,
    search_documents_refresh_run,
    text_search_config_check,
)


class Command(BaseCommand):
    help = "Rebuild every search document with the current text search configuration and attribute setup."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="only check; exit 1 when a rebuild is needed")
        parser.add_argument("--if-stale", action="store_true", help="rebuild only when the documents need it")
        parser.add_argument("--facets-only", action="store_true", help="rewrite the facet values only (cheaper)")
        parser.add_argument("--async", dest="run_async", action="store_true", help="hand the work to the workers")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, check, if_stale, facets_only, run_async, no_progress, **options):
        try:
            config = text_search_config_check()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        current = documents_current()
        state = "follow" if current else "do not follow"
        self.stdout.write(f"search documents {state} SEARCH_TEXT_CONFIG={config!r}")
        if check:
            if not current:
                raise CommandError("rebuild them: manage.py search_documents")
            return
        if if_stale and current:
            return
        if run_async:
            search_documents_refresh(facets_only=facets_only, run_async=True)
            self.stdout.write("queued; follow it on the admin's facet setup page")
            return
        bar = tqdm(desc="search documents", unit="product", disable=True if no_progress else None)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        try:
            total = search_documents_refresh_run(facets_only=facets_only, progress=progress)
        finally:
            bar.close()
        self.stdout.write(f"rebuilt the search documents of {total} products")
