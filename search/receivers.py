"""Signal receivers of the search app: a newly active generation gets its popular queries warmed."""

import logging

from django.dispatch import receiver

from embeddings.signals import generation_activated

logger = logging.getLogger(__name__)


@receiver(generation_activated)
def warm_after_activation(sender, generation_id: int, **kwargs) -> None:
    from .selectors import process_caches_clear
    from .tasks import warm_cache_task

    process_caches_clear()
    try:
        warm_cache_task.apply_async(countdown=3)  # after the search processes see the new generation
    except Exception:  # noqa: BLE001 - the beat task warms it later
        logger.warning("could not queue the cache warm-up after activating generation %s", generation_id)
