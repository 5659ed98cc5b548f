"""Signal receivers of the search app: a product change rebuilds its search document (in the writing
transaction) and, once committed, drops the cached results that contain it and the spelling vocabulary; a
deleted product's cached results are dropped on commit; a newly active generation gets its popular queries
warmed."""

import logging

from django.db import transaction
from django.dispatch import receiver

from catalog.signals import products_changed, products_deleted
from embeddings.signals import generation_activated

from .cache import search_cache_invalidate_products
from .documents import search_documents_update
from .spelling import vocabulary_invalidate

logger = logging.getLogger(__name__)


@receiver(products_changed)
def documents_after_product_change(sender, product_ids: list[int], **kwargs) -> None:
    search_documents_update(product_ids=product_ids)
    transaction.on_commit(lambda: search_cache_invalidate_products(product_ids=product_ids))
    transaction.on_commit(vocabulary_invalidate)


@receiver(products_deleted)
def cache_after_product_delete(sender, product_ids: list[int], **kwargs) -> None:
    # the documents went with the products (ON DELETE CASCADE); results cached before may still name them
    transaction.on_commit(lambda: search_cache_invalidate_products(product_ids=product_ids))


@receiver(generation_activated)
def warm_after_activation(sender, generation_id: int, **kwargs) -> None:
    from .selectors import process_caches_clear
    from .tasks import warm_cache_task

    process_caches_clear()
    try:
        warm_cache_task.apply_async(countdown=3)  # after the search processes see the new generation
    except Exception:  # noqa: BLE001 - the beat task warms it later
        logger.warning("could not queue the cache warm-up after activating generation %s", generation_id)
