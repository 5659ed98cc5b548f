"""Freshness: a change marks products stale (a flag and a version, no embedding on the request path); the
stale ones are embedded in bounded batches by a task queued after commit and by a periodic task.

No torch here: catalog writes import this module.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F

from catalog.models import Product

from ..models import EmbeddingGeneration
from ..selectors import live_generations

logger = logging.getLogger(__name__)

STALE_SCHEDULE_KEY = "embeddings:stale-scheduled"
# After a change, wait this long before embedding, so that a burst of changes (an import) becomes one batch.
STALE_DEBOUNCE_SECONDS = 2


def products_mark_stale(*, product_ids: list[int]) -> None:
    """Record that these products changed: their vectors are re-embedded in the background soon after commit."""
    if not product_ids:
        return
    Product.objects.filter(id__in=product_ids).update(
        embeddings_stale=True, content_version=F("content_version") + 1, embedding_error=""
    )
    transaction.on_commit(stale_embedding_schedule)


def stale_embedding_schedule() -> None:
    """Queue one stale-embedding run for a burst of changes. Without Redis the periodic task catches up."""
    from ..tasks import embed_stale_task

    try:
        if cache.add(STALE_SCHEDULE_KEY, 1, timeout=STALE_DEBOUNCE_SECONDS):
            embed_stale_task.apply_async(countdown=STALE_DEBOUNCE_SECONDS)
    except Exception:  # noqa: BLE001 - the broker being down must not fail the write that marked products stale
        logger.warning("could not queue stale embedding; the periodic task will pick the products up", exc_info=True)


def stale_products_embed(*, limit: int | None = None) -> int:
    """Embed up to ``limit`` stale products (oldest first) into every live generation; returns how many.

    Products whose last embedding failed (``embedding_error``) wait for a change or a "re-embed" from the admin,
    so one bad product does not hold up the others in every run."""
    limit = limit or settings.EMBEDDING_STALE_BATCH_LIMIT
    ids = list(
        Product.objects.filter(embeddings_stale=True, embedding_error="")
        .order_by("updated_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    return products_embed_now(product_ids=ids)


def products_embed_now(*, product_ids: list[int]) -> int:
    """Embed these products into every live generation now, in batches; a product that fails keeps its error
    (``Product.embedding_error``) and stays stale. Returns how many products were taken."""
    from ..tasks import TRANSIENT_ERRORS  # worth a retry of the task; anything else is the product's own error

    generations = live_generations()
    if not generations or not product_ids:
        return 0
    batch_size = settings.EMBEDDING_BATCH_SIZE
    for start in range(0, len(product_ids), batch_size):
        batch = product_ids[start : start + batch_size]
        try:
            versions = _embed_batch(generations, batch)
        except TRANSIENT_ERRORS:
            raise
        except Exception:  # noqa: BLE001 - find the product(s) that fail, one by one, and record why
            logger.warning("embedding batch of %d products failed; retrying one by one", len(batch), exc_info=True)
            versions = {}
            for product_id in batch:
                try:
                    versions.update(_embed_batch(generations, [product_id]))
                except TRANSIENT_ERRORS:
                    raise
                except Exception as exc:  # noqa: BLE001 - recorded on the product, shown in the admin
                    logger.exception("embedding product %s failed", product_id)
                    error = f"{exc.__class__.__name__}: {exc}"[:5000]
                    Product.objects.filter(pk=product_id).update(embedding_error=error)
        settled = [(pid, vs.pop()) for pid, vs in versions.items() if len(vs) == 1]
        _clear_stale(settled)
    return len(product_ids)


def _embed_batch(generations: list[EmbeddingGeneration], batch: list[int]) -> dict[int, set[int]]:
    from .embedding import products_embed

    versions: dict[int, set[int]] = {}
    for generation in generations:
        for product_id, version in products_embed(generation=generation, product_ids=batch).versions.items():
            versions.setdefault(product_id, set()).add(version)
    return versions


def products_reembed(*, product_ids: list[int]) -> None:
    """Re-embed these products now (the admin's "re-embed selected"): mark them stale, clear their last error,
    and queue their embedding right after commit instead of waiting for the periodic run."""
    from ..tasks import embed_products_task

    products_mark_stale(product_ids=product_ids)
    ids = sorted(product_ids)
    for start in range(0, len(ids), settings.EMBEDDING_STALE_BATCH_LIMIT):
        chunk = ids[start : start + settings.EMBEDDING_STALE_BATCH_LIMIT]
        transaction.on_commit(lambda chunk=chunk: embed_products_task.delay(chunk))


def _clear_stale(settled: list[tuple[int, int]]) -> None:
    """Clear the flag only where the content is still the version that was embedded (no change meanwhile)."""
    if not settled:
        return
    values = ",".join(["(%s, %s)"] * len(settled))
    params = [x for pair in settled for x in pair]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE catalog_product AS p SET embeddings_stale = false FROM (VALUES {values}) AS v(id, version) "
            "WHERE p.id = v.id AND p.content_version = v.version",
            params,
        )


def products_stale_reconcile(*, generation: EmbeddingGeneration) -> int:
    """After a switch of generation, a product is stale exactly when the newly active generation lacks vectors
    for its current content (it changed while that generation was not following the catalog, or a build just
    embedded it). Returns how many products are stale now."""
    up_to_date = (
        "EXISTS (SELECT 1 FROM embeddings_productembedding AS e WHERE e.product_id = p.id "
        "AND e.generation_id = %s AND e.content_version = p.content_version)"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE catalog_product AS p SET embeddings_stale = NOT {up_to_date} "
            f"WHERE p.embeddings_stale = {up_to_date}",
            [generation.pk, generation.pk],
        )
    stale = Product.objects.filter(embeddings_stale=True).count()
    if stale:
        transaction.on_commit(stale_embedding_schedule)
    return stale
