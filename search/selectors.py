"""Search reads, in order: the query's words and vectors, the candidates of every signal
(``search.candidates``), the match set and its ranking (``search.match_set``, ``search.ranking``), the page's
cards (``search.cards``). Browsing (no text, no photo) lists everything under the filters.

Before the first generation is active, a text search answers from the keyword signal alone (mode "keyword").
"""

from __future__ import annotations

import time

from django.conf import settings
from django.db import connection

from embeddings.models import EmbeddingGeneration
from embeddings.selectors import active_generation

from .candidates import photo_candidates, text_candidates
from .cards import products_for_page
from .facets import browse_facets
from .filters import filters_sql
from .keywords import keyword_query, keyword_statistics_clear
from .match_set import match_set
from .ranking import FusionConfig, Ranked
from .spelling import current_vocabulary
from .types import SearchQuery, SearchResult

__all__ = [
    "NoActiveGeneration",
    "active_generation_cached",
    "attribute_names",
    "process_caches_clear",
    "search_products",
]


class NoActiveGeneration(RuntimeError):
    pass


def search_products(query: SearchQuery, generation: EmbeddingGeneration | None) -> SearchResult:
    """Text search, photo search (optionally refined by text) or, with neither, browsing under the filters."""
    text = query.text.strip()
    offset = (query.page - 1) * query.page_size
    if not text and query.photo is None:
        return _browse(query, offset)
    config = query.fusion or FusionConfig.from_settings(generation=generation)
    corrected_query = ""
    if query.photo is not None:
        if generation is None:
            raise NoActiveGeneration("no embedding generation is active yet: run `manage.py reindex`")
        found = photo_candidates(generation, query)
        mode = "photo"
    else:
        corrected = current_vocabulary().correct_query(text)
        corrected_query = corrected.corrected if corrected.changed else ""
        wanted = offset + query.page_size + settings.SEARCH_FULLTEXT_CANDIDATES
        keyword = keyword_query(corrected.alternatives)
        found = text_candidates(generation, query, keyword, corrected.corrected, wanted)
        mode = "hybrid" if generation is not None else "keyword"
    matches = match_set(found, generation, config)
    page = matches.ranking[offset : offset + query.page_size]
    return SearchResult(
        total=matches.total,
        ranking=page,
        facets=matches.facets,
        products=products_for_page(
            [r.product_id for r in page], {r.product_id: found.docs[r.product_id].card for r in page}
        ),
        corrected_query=corrected_query,
        mode=mode,
        best_similarity=matches.best_similarity,
        vector_covered=matches.vector_covered,
    )


def _browse(query: SearchQuery, offset: int) -> SearchResult:
    where, params = filters_sql(query.filters)
    sql = (
        f"SELECT p.id, count(*) OVER () FROM catalog_product p WHERE {where} "
        "ORDER BY p.in_stock DESC, p.rating_count DESC, p.name, p.id LIMIT %s OFFSET %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params + [query.page_size, offset])
        rows = cursor.fetchall()
        if rows:
            total = rows[0][1]
        else:
            cursor.execute(f"SELECT count(*) FROM catalog_product p WHERE {where}", params)
            total = cursor.fetchone()[0]
    ids = [row[0] for row in rows]
    return SearchResult(
        total=total,
        ranking=[Ranked(product_id, 0.0, {}) for product_id in ids],
        facets=browse_facets(query.filters),
        products=products_for_page(ids),
        mode="browse",
    )


_generation_cache: tuple[float, EmbeddingGeneration | None] = (0.0, None)
# Search reads the active generation at most this often (activation shows within this many seconds).
ACTIVE_GENERATION_TTL_SECONDS = 2.0


def active_generation_cached() -> EmbeddingGeneration | None:
    global _generation_cache
    now = time.monotonic()
    if now - _generation_cache[0] > ACTIVE_GENERATION_TTL_SECONDS:
        _generation_cache = (now, active_generation())
    return _generation_cache[1]


_attribute_names: tuple[float, frozenset[str]] = (0.0, frozenset())
# Attribute names are re-read at most this often, and at once when a request names one not seen yet.
ATTRIBUTE_NAMES_TTL_SECONDS = 60


def attribute_names(*, refresh: bool = False) -> frozenset[str]:
    """Attribute names that exist in the catalog (any of them can be a filter)."""
    global _attribute_names
    now = time.monotonic()
    if refresh or now - _attribute_names[0] > ATTRIBUTE_NAMES_TTL_SECONDS:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT DISTINCT jsonb_object_keys(attributes) FROM catalog_product UNION "
                "SELECT DISTINCT jsonb_object_keys(attributes) FROM catalog_variant"
            )
            _attribute_names = (now, frozenset(row[0] for row in cursor.fetchall()))
    return _attribute_names[1]


def process_caches_clear() -> None:
    """Forget the active generation, attribute names and term statistics cached in this process (after an
    activation)."""
    global _generation_cache, _attribute_names
    _generation_cache = (0.0, None)
    _attribute_names = (0.0, frozenset())
    keyword_statistics_clear()
