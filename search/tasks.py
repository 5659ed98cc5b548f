"""Celery tasks of search: writing the buffered search log, warming the cache, keeping popularity bounded."""

import logging

from celery import shared_task
from django.core.cache import cache

logger = logging.getLogger(__name__)

WARMED_KEY = "search:warmed-generation"  # a Django cache key (prefixed by CACHE_KEY_PREFIX)


@shared_task(name="search.flush_logs", ignore_result=True)
def flush_logs_task() -> int:
    from .services import search_logs_flush

    return search_logs_flush()


@shared_task(name="search.warm_cache", acks_late=True, soft_time_limit=600, time_limit=700)
def warm_cache_task() -> int:
    """Run the most popular queries against the active generation once, so their results are cached before
    shoppers ask. Runs after every activation and from beat (a no-op when this generation is already warm)."""
    from .selectors import active_generation_cached
    from .warming import cache_warm

    generation = active_generation_cached()
    if generation is None:
        return 0
    try:
        if cache.get(WARMED_KEY) == generation.pk:
            return 0
    except Exception:  # noqa: BLE001 - no Redis, no cache to warm
        return 0
    warmed = cache_warm(generation)
    cache.set(WARMED_KEY, generation.pk, timeout=None)
    logger.info("warmed %d popular queries for generation %s", warmed, generation.pk)
    return warmed


@shared_task(name="search.rescale_popularity", ignore_result=True)
def rescale_popularity_task() -> None:
    from .cache import popularity_rescale

    popularity_rescale()


@shared_task(name="search.refresh_suggestions", ignore_result=True, soft_time_limit=120, time_limit=180)
def refresh_suggestions_task() -> int:
    """Recount the popular queries autocomplete offers from the search log (``search.suggest``)."""
    from .suggest import query_suggestions_refresh

    return query_suggestions_refresh()


@shared_task(name="search.refresh_documents", acks_late=True, soft_time_limit=3 * 3600, time_limit=3 * 3600 + 60)
def documents_refresh_task(facets_only: bool = False) -> int:
    """Refresh every search document (after the attribute facets changed: their facet values only), in batches
    that each commit; re-delivered after a lost worker, it simply runs again."""
    from .documents import search_documents_refresh_run

    return search_documents_refresh_run(facets_only=facets_only)


@shared_task(name="search.refresh_product_popularity", ignore_result=True)
def refresh_product_popularity_task() -> int:
    from .services import product_popularity_refresh

    return product_popularity_refresh()
