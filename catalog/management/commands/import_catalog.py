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
        parser.add_argument(
            "--photo-tasks",
            action="store_true",
            help="read and decode photos in Celery tasks (catalog.store_photos) on the workers, which must reach "
            "the catalog folder and share the photo storage; by default in threads of this process",
        )
        parser.add_argument(
            "--line-by-line",
            action="store_true",
            help="write one product at a time, each in its own transaction, instead of batches (much slower; "
            "the same result)",
        )

    def handle(self, *args, path: Path, no_progress: bool, force: bool, photo_tasks: bool, line_by_line: bool,
               **options):  # fmt: skip
        bar = tqdm(total=0, unit="line", desc="importing", disable=True if no_progress else None)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        try:
            report = catalog_import(
                path=path, progress=progress, force=force, bulk=not line_by_line, photo_tasks=photo_tasks
            )
        except FileNotFoundError as exc:
            raise CommandError(str(exc)) from None
        finally:
            bar.close()
        for issue in report.issues:
            self.stderr.write(f"{issue}")
        self.stdout.write(report.summary())
        if not report.usable:
            raise CommandError("nothing usable was read")
