"""Celery tasks of the catalog: thin wrappers around services, taking plain arguments."""

import logging
from pathlib import Path

from celery import shared_task
from django.core.files.storage import default_storage

from .models import ProductImage
from .services import catalog_import

logger = logging.getLogger(__name__)


@shared_task(name="catalog.import", acks_late=True, reject_on_worker_lost=True, time_limit=4 * 3600)
def catalog_import_task(path: str) -> dict:
    """Import a catalog folder that the worker can read, in bulk; idempotent, so a re-delivered task is harmless.
    Its photos are read in threads of this worker: a task must not wait for other tasks (``photo_tasks``), which
    could wait behind it for the same worker."""
    report = catalog_import(path=Path(path), bulk=True, photo_tasks=False)
    logger.info("catalog import of %s: %s", path, report.summary())
    return {
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "skipped": report.skipped,
        "reviews_created": report.reviews_created,
        "issues": [str(issue) for issue in report.issues[:200]],
    }


@shared_task(
    name="catalog.store_photos", acks_late=True, reject_on_worker_lost=True, time_limit=15 * 60, soft_time_limit=14 * 60
)
def store_photos_task(sources: list[str], base_dir: str) -> list[dict]:
    """Read, check, decode and store these photo sources (paths under ``base_dir``, which this worker must be able
    to read, or URLs) for a bulk import (``catalog.bulk``), into the photo storage the importer shares; one outcome
    per source: the stored photo, or why it cannot be used. Storing is by content hash, so a re-delivered task is
    harmless."""
    from .bulk import photo_result_to_json
    from .services import photo_store

    return [photo_result_to_json(source, photo_store(source=source, base_dir=Path(base_dir))) for source in sources]


@shared_task(name="catalog.purge_orphan_photos")
def purge_orphan_photos() -> int:
    """Delete stored photo files that no product photo refers to any more (left by updates and deletes)."""
    used = set(ProductImage.objects.exclude(file="").values_list("file", flat=True))
    removed = 0
    try:
        shards = default_storage.listdir("photos")[0]
    except FileNotFoundError:
        return 0
    for shard in shards:
        for name in default_storage.listdir(f"photos/{shard}")[1]:
            path = f"photos/{shard}/{name}"
            if path not in used:
                default_storage.delete(path)
                removed += 1
    return removed
