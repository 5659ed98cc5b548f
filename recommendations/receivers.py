"""Signal receivers of recommendations: a newly active generation gets its similar-item lists computed."""

import logging

from django.dispatch import receiver

from embeddings.signals import generation_activated

logger = logging.getLogger(__name__)


@receiver(generation_activated)
def lists_after_activation(sender, generation_id: int, **kwargs) -> None:
    from .tasks import build_similar_lists_task

    try:
        build_similar_lists_task.delay(generation_id, only_missing=True)
    except Exception:  # noqa: BLE001 - product pages compute their lists on first view, and the daily run fills in
        logger.warning("could not queue the similar-item lists of generation %s", generation_id)
