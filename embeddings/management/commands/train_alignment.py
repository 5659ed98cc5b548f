"""``python manage.py train_alignment``: train the alignment head on the catalog's photo/text pairs."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from embeddings.models import Job, TrainedHead
from embeddings.services.operations import job_run, job_start
from embeddings.services.training import usable_photo_count

from ._progress import PhaseBars


class Command(BaseCommand):
    help = "Train a new alignment head (used by the next generation built: `manage.py reindex`)."

    def add_arguments(self, parser):
        parser.add_argument("--async", dest="run_async", action="store_true", help="hand the work to the workers")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, run_async, no_progress, **options):
        photos = usable_photo_count()
        if photos < settings.EMBEDDING_MIN_TRAINING_PHOTOS:
            raise CommandError(
                f"the catalog has {photos} usable photos; training an alignment head needs at least "
                f"{settings.EMBEDDING_MIN_TRAINING_PHOTOS} (EMBEDDING_MIN_TRAINING_PHOTOS). `manage.py reindex` builds "
                "a text-only generation meanwhile: text search, similar items and full text work without photos."
            )
        job = job_start(kind=Job.Kind.TRAIN, run_async=run_async)
        if run_async:
            self.stdout.write(f"queued job {job.pk}")
            return
        bars = PhaseBars(enabled=not no_progress)
        try:
            job_run(job=job, callback=bars)
        except Exception as exc:
            raise CommandError(f"training failed: {exc}") from exc
        finally:
            bars.close()
        head = TrainedHead.objects.get(pk=Job.objects.values_list("head", flat=True).get(pk=job.pk))
        report = head.report
        self.stdout.write(
            f"head {head.pk}: {report['photos']} photos, {report['texts']} texts, {report['epochs']} epochs "
            f"(best {report['best_epoch']}), validation loss {report['initial_validation_loss']:.3f} -> "
            f"{report['validation_loss']:.3f}, {report['seconds']:.1f} s training"
        )
