"""Celery tasks of the quality check (on the ``reindex`` queue: it trains small models for a while)."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="quality.build_report", acks_late=True, soft_time_limit=2 * 3600, time_limit=2 * 3600 + 300)
def build_quality_report_task(generation_id: int | None = None) -> int | None:
    """The quality report of a generation (default: the active one); its id, or None without a generation."""
    from embeddings.models import EmbeddingGeneration

    from .services import quality_report_build

    generations = EmbeddingGeneration.objects.exclude(state=EmbeddingGeneration.State.FAILED)
    generation = (
        generations.filter(pk=generation_id).first()
        if generation_id
        else generations.filter(state=EmbeddingGeneration.State.ACTIVE).first()
    )
    if generation is None:
        return None
    return quality_report_build(generation=generation).pk
