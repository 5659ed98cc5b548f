"""``python manage.py import_catalog PATH``: import a catalog folder in the catalog format, with a progress bar."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from catalog.services import catalog_import


class Command(BaseCommand):
    help = "Import (or update) products, photos and reviews from a catalog folder (products.jsonl, reviews.jsonl)."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="catalog folder, or its products.jsonl")
        parser.add_argument("--no-progress", action="store_true", help="do not draw a progress bar")
        parser.add_argument("--force", action="store_true", help="re-read every product and photo, changed or not")

    def handle(self, *args, path: Path, no_progress: bool, force: bool, **options):
        bar = tqdm(total=0, unit="line", desc="importing", disable=True if no_progress else None)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        try:
            report = catalog_import(path=path, progress=progress, force=force)
        except FileNotFoundError as exc:
            raise CommandError(str(exc)) from None
        finally:
            bar.close()
        for issue in report.issues:
            self.stderr.write(f"{issue}")
        self.stdout.write(report.summary())
        if not report.usable:
            raise CommandError("nothing usable was read")
