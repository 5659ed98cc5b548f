"""Search reads, in order: the query's words and vectors, the candidates of every signal
(``search.candidates``), the match set and its ranking (``search.match_set``, ``search.ranking``), the page's
cards (``search.cards``). Browsing (no text, no photo) lists everything under the filters.

Before the first generation is active, a text search answers from the keyword signal alone (mode "keyword").
"""

from __future__ import annotations

import time
from dataclasses import replace

from django.conf import settings
from django.db import connection

from catalog.selectors import attribute_setup_clear
from embeddings.models import EmbeddingGeneration
from embeddings.selectors import active_generation
from shop_search.db import reads_at_least

from .cache import stamp_read
from .candidates import photo_candidates, text_candidates
from .cards import card_texts, products_for_page
from .facets import browse_facets, facets_with, pinned_documents
from .keywords import keyword_query, keyword_statistics_clear
from .match_set import match_set
from .merchandising import Levers, current_levers, levers_forget
from .ranking import FusionConfig, Ranked
from .rules import RulesPlan, boost_sql, boost_tiers, page_with_pins, pinned_products, rules_plan, rules_with_preview
from .sorting import RELEVANCE, browse_page, browse_total, sorted_members
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
    """Text search, photo search (optionally refined by text) or, with neither, browsing under the filters; the
    shop's query rules (``search.rules``) and synonyms (``search.synonyms``) applied."""
    stamp = stamp_read()  # one MGET: the merchandising version and the catalog position
    levers = current_levers(stamp) if query.merchandising else None
    # the reads from here on include the catalog position (a replica that has not replayed it is not read)
    position = reads_at_least(stamp.position)
    rules = levers.rules if levers else ()
    if levers is not None and query.preview_rule is not None:
        rules = rules_with_preview(rules, query.preview_rule)
    plan = rules_plan(rules, query.text.strip(), query.filters)
    pins = pinned_products(plan, plan.filters)
    # Pinned products are placed apart: the search runs without them and they join its result set.
    filters = replace(plan.filters, exclude_skus=tuple(sorted({*plan.filters.exclude_skus, *(p[1] for p in pins)})))
    query = replace(query, text=plan.text, filters=filters)
    result = _search(query, generation, plan, pins, levers)
    result.rules = plan.explain()
    result.redirect_url = plan.redirect_url
    result.merchandising_version = stamp.text(position) if levers else None  # what it is cached with
    return result


def _search(query: SearchQuery, generation, plan: RulesPlan, pins: list, levers: Levers | None) -> SearchResult:
    text = query.text.strip()
    offset = (query.page - 1) * query.page_size
    if not text and query.photo is None:
        return _browse(query, offset, pins, boost_sql(plan))
    config = query.fusion or FusionConfig.from_settings(generation=generation)
    corrected_query = ""
    keyword = None
    applied_synonyms: list[dict] = []
    if query.photo is not None:
        if generation is None:
            raise NoActiveGeneration("no embedding generation is active yet: run `manage.py reindex`")
        found = photo_candidates(generation, query)
        mode = "photo"
    else:
        corrected = current_vocabulary().correct_query(text)
        corrected_query = corrected.corrected if corrected.changed else ""
        wanted = offset + query.page_size + settings.SEARCH_FULLTEXT_CANDIDATES
        groups = corrected.alternatives
        if levers is not None:
            groups, applied_synonyms = levers.synonyms.expand(corrected.tokens, groups)
        keyword = keyword_query(groups)
        found = text_candidates(generation, query, keyword, corrected.corrected, wanted)
        mode = "hybrid" if generation is not None else "keyword"
    matches = match_set(found, generation, config)
    total = matches.total + len(pins)
    if query.sort == RELEVANCE:
        ranking = _boosted(plan, matches.ranking)
        by_id = {ranked.product_id: ranked for ranked in ranking}
        ids = page_with_pins(
            pins, lambda at, n: [r.product_id for r in ranking[at : at + n]], offset, query.page_size, total
        )
    else:
        by_id = {ranked.product_id: ranked for ranked in matches.ranking}
        ids = page_with_pins(pins, lambda at, n: sorted_members(
            query.filters, query.sort, keyword=keyword, member_ids=matches.vector_only, offset=at, limit=n,
        ), offset, query.page_size, total)  # fmt: skip
    page = [by_id.get(product_id) or _unread(product_id, pins) for product_id in ids]
    pinned_docs = pinned_documents(pins)
    cards = {product_id: doc.card for product_id, doc in {**found.docs, **pinned_docs}.items()}
    cards.update(card_texts([r.product_id for r in page if r.product_id not in cards]))
    return SearchResult(
        total=total,
        ranking=page,
        facets=facets_with(matches.facets, pinned_docs.values()),
        products=products_for_page(
            [r.product_id for r in page],
            {r.product_id: cards[r.product_id] for r in page if r.product_id in cards},
            query.filters,
        ),
        corrected_query=corrected_query,
        mode=mode,
        best_similarity=matches.best_similarity,
        vector_covered=matches.vector_covered,
        synonyms=applied_synonyms,
    )


def _boosted(plan: RulesPlan, ranking: list[Ranked]) -> list[Ranked]:
    """The ranking in the tiers of the rules' boosts and buries (relevance order inside a tier)."""
    tiers = boost_tiers(plan, [ranked.product_id for ranked in ranking])
    if not tiers:
        return ranking
    for ranked in ranking:
        if ranked.product_id in tiers:
            ranked.signals["boost"] = (0, tiers[ranked.product_id])
    order = {ranked.product_id: n for n, ranked in enumerate(ranking)}
    return sorted(ranking, key=lambda r: (-tiers.get(r.product_id, 0.0), order[r.product_id]))


def _pinned(product_id: int, pins: list) -> Ranked:
    position = next(position for pinned_id, _sku, position in pins if pinned_id == product_id)
    return Ranked(product_id, 0.0, {"pinned": (position, 0.0)})


def _unread(product_id: int, pins: list) -> Ranked:
    """A product on a sorted page that relevance did not read: a pinned one, or a member of a match set larger than
    the members read in relevance order (``sorted_members`` orders the whole set; its card is read for the page)."""
    if any(pinned_id == product_id for pinned_id, _sku, _position in pins):
        return _pinned(product_id, pins)
    return Ranked(product_id, 0.0, {})


def _browse(query: SearchQuery, offset: int, pins: list, boost: tuple[str, list]) -> SearchResult:
    if pins:
        total = browse_total(query.filters) + len(pins)
        ids = page_with_pins(
            pins, lambda at, n: browse_page(query.filters, query.sort, at, n, boost)[0], offset, query.page_size, total
        )
    else:
        ids, total = browse_page(query.filters, query.sort, offset, query.page_size, boost)
    pinned_docs = pinned_documents(pins)
    return SearchResult(
        total=total,
        ranking=[_pinned(i, pins) if i in pinned_docs else Ranked(i, 0.0, {}) for i in ids],
        facets=facets_with(browse_facets(query.filters), pinned_docs.values()),
        products=products_for_page(ids, filters=query.filters),
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
    levers_forget()
    attribute_setup_clear()
