"""Celery tasks of recommendations: (re)building the stored similar-item lists."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(
    name="recommendations.build_similar_lists", acks_late=True, soft_time_limit=3 * 3600, time_limit=3 * 3600 + 300
)
def build_similar_lists_task(generation_id: int | None = None, only_missing: bool = False) -> int:
    """Lists of every product of a generation (default: the active one), with a job the operations page shows.
    After an activation only the missing ones; the daily run recomputes all, so that products added since appear
    in other products' lists."""
    from embeddings.models import EmbeddingGeneration, Job
    from embeddings.services.jobs import JobProgress

    from .services import similar_lists_build

    generations = EmbeddingGeneration.objects.all()
    generation = (
        generations.filter(pk=generation_id).first()
        if generation_id
        else generations.filter(state=EmbeddingGeneration.State.ACTIVE).first()
    )
    if generation is None:
        return 0
    progress = JobProgress(Job.objects.create(kind=Job.Kind.SIMILAR, generation=generation))

    def report(done: int, total: int) -> None:
        if done == 0:
            progress.start(total=total, message=f"similar-item lists of generation {generation.pk}")
        else:
            progress.advance(done)
            logger.info("similar-item lists of generation %s: %d/%d", generation.pk, done, total)

    try:
        count = similar_lists_build(generation=generation, only_missing=only_missing, progress=report)
    except Exception as exc:
        progress.fail(f"{type(exc).__name__}: {exc}")
        raise
    progress.finish()
    return count
