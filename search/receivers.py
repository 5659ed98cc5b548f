"""Signal receivers of the search app: a product change rebuilds its search document (in the writing transaction) and,
once committed, drops the cached results that contain it, the spelling vocabulary and the suggestion index; a
deleted product's cached results and suggestions are dropped on commit; a newly active generation gets its popular
queries warmed; a change of the attribute setup drops every cached result and, when the attribute facets changed,
refreshes the documents' facet values."""

import logging

from django.db import transaction
from django.dispatch import receiver

from catalog.signals import attribute_setup_changed, products_changed, products_deleted
from embeddings.signals import generation_activated
from shop_search.db import catalog_position_record

from .cache import search_cache_invalidate_products
from .documents import search_documents_update
from .spelling import vocabulary_invalidate
from .suggest import suggest_index_invalidate, suggest_index_recheck

logger = logging.getLogger(__name__)


@receiver(products_changed)
def documents_after_product_change(sender, product_ids: list[int], **kwargs) -> None:
    search_documents_update(product_ids=product_ids)
    transaction.on_commit(lambda: _results_drop(product_ids))
    transaction.on_commit(vocabulary_invalidate)


@receiver(products_deleted)
def cache_after_product_delete(sender, product_ids: list[int], **kwargs) -> None:
    # the documents went with the products (ON DELETE CASCADE); results cached before may still name them
    transaction.on_commit(lambda: _results_drop(product_ids))


def _results_drop(product_ids: list[int]) -> None:
    """After a catalog write committed: the catalog position first (a search computed before the write then stores
    nothing after the invalidation, and no replica that has not replayed the write is read from again:
    ``shop_search/db.py``), then the cached results that show these products."""
    catalog_position_record()
    search_cache_invalidate_products(product_ids=product_ids)


@receiver(products_changed)
def suggestions_after_product_change(sender, product_ids: list[int], **kwargs) -> None:
    # the vocabulary's version (bumped above) tells every process; this one looks at it on its next suggestion
    transaction.on_commit(suggest_index_recheck)


@receiver(products_deleted)
def suggestions_after_product_delete(sender, product_ids: list[int], **kwargs) -> None:
    transaction.on_commit(suggest_index_invalidate)  # deleted products' names are no more suggested


@receiver(attribute_setup_changed)
def documents_after_setup_change(sender, facets_changed: bool, **kwargs) -> None:
    from .documents import search_documents_refresh
    from .merchandising import merchandising_changed

    # labels, order and which facets show are part of every cached result
    transaction.on_commit(merchandising_changed)
    if facets_changed:
        transaction.on_commit(lambda: search_documents_refresh(facets_only=True))


@receiver(generation_activated)
def warm_after_activation(sender, generation_id: int, **kwargs) -> None:
    from .selectors import process_caches_clear
    from .tasks import warm_cache_task

    catalog_position_record()  # (sent once the activation committed) no replica behind it serves the new generation
    process_caches_clear()
    try:
        warm_cache_task.apply_async(countdown=3)  # after the search processes see the new generation
    except Exception:  # noqa: BLE001 - the beat task warms it later
        logger.warning("could not queue the cache warm-up after activating generation %s", generation_id)
