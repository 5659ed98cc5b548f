"""Signal receivers of the quality check: a newly active generation gets its quality report."""

import logging

from django.dispatch import receiver

from embeddings.signals import generation_activated

logger = logging.getLogger(__name__)


@receiver(generation_activated)
def report_after_activation(sender, generation_id: int, **kwargs) -> None:
    from .tasks import build_quality_report_task

    try:
        build_quality_report_task.delay(generation_id)
    except Exception:  # noqa: BLE001 - the nightly run builds it, and the admin page can queue it
        logger.warning("could not queue the quality report of generation %s", generation_id)
