"""Cache warm-up: replay the most popular text searches so their results are cached for the active generation."""

from __future__ import annotations

from django.conf import settings

from embeddings.models import EmbeddingGeneration

from .cache import cache_key, cache_result, popular_requests
from .filters import Filters
from .selectors import search_products
from .types import SearchQuery


def cache_warm(generation: EmbeddingGeneration, limit: int | None = None) -> int:
    """Compute and cache the results of the ``limit`` most popular requests; returns how many."""
    from .apis import search_payload

    warmed = 0
    for request, _count in popular_requests(limit or settings.SEARCH_WARM_TOP_QUERIES):
        filters = Filters.from_dict(request.get("filters", {}))
        query = SearchQuery(text=request["q"], filters=filters, page=request["page"], page_size=request["page_size"],
                            sort=request.get("sort", "relevance"))  # fmt: skip
        result = search_products(query, generation)
        payload = search_payload(result, page=request["page"], page_size=request["page_size"],
                                 explain=request["explain"])  # fmt: skip
        cache_result(cache_key(request, generation.pk), payload, payload["_product_ids"])
        warmed += 1
    return warmed
