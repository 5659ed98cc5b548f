"""``python manage.py reindex``: build a new embedding generation and activate it (``--async``: on the workers)."""

from django.core.management.base import BaseCommand, CommandError

from embeddings.models import Job
from embeddings.services.operations import job_run, job_start

from ._progress import PhaseBars


class Command(BaseCommand):
    help = "Build a new embedding generation from the current settings and activate it."

    def add_arguments(self, parser):
        parser.add_argument("--async", dest="run_async", action="store_true", help="hand the work to the workers")
        parser.add_argument("--no-activate", action="store_true", help="build, but leave the active generation")
        parser.add_argument("--train", action="store_true", help="train a new alignment head first")
        parser.add_argument("--image-weight", type=float, help="fusion weight of the aligned image vector")
        parser.add_argument("--text-weight", type=float, help="fusion weight of the aligned text vector")
        parser.add_argument(
            "--runners", type=int, default=0, metavar="N",
            help="in the foreground, also send N chunk-runner tasks to the workers: they share the build's chunks "
            "with this process, and the bar counts them all (with --async: EMBEDDING_BUILD_RUNNERS)",
        )  # fmt: skip
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, run_async, no_activate, train, image_weight, text_weight, runners, no_progress, **options):
        job_options = {"activate": not no_activate, "train": train}
        if image_weight is not None:
            job_options["image_weight"] = image_weight
        if text_weight is not None:
            job_options["text_weight"] = text_weight
        job = job_start(kind=Job.Kind.BUILD, options=job_options, run_async=run_async)
        if run_async:
            self.stdout.write(f"queued job {job.pk}; follow it in the admin or with `manage.py generations list`")
            return
        bars = PhaseBars(enabled=not no_progress)
        try:
            outcome = job_run(job=job, callback=bars, runners=runners)
        except Exception as exc:
            raise CommandError(f"reindex failed: {exc}") from exc
        finally:
            bars.close()
        self.stdout.write(outcome)
