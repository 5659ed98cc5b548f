"""What a search passes between its steps: the query, the candidates of its signals, the result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from embeddings.queries import PhotoQuery

from .filters import Filters
from .ranking import FusionConfig, Ranked

__all__ = ["Candidates", "Document", "PhotoQuery", "SearchQuery", "SearchResult", "VectorHit"]


@dataclass
class SearchQuery:
    text: str = ""
    filters: Filters = field(default_factory=Filters)
    page: int = 1
    page_size: int = 20
    fusion: FusionConfig | None = None
    photo: PhotoQuery | None = None
    sort: str = "relevance"  # or a key of ``search.sorting.ORDER_BY``
    merchandising: bool = True  # the shop's rules and synonyms apply (the playground compares without them)
    preview_rule: int | None = None  # a rule applied as if enabled and in its window (the playground's preview)


class Document(NamedTuple):
    """What a search reads of a candidate (``search_searchdocument``): facet values, price and rating for the
    facets, and the result card as JSON text (parsed for the page only)."""

    facets: list[str]
    price: float | None
    rating: float | None
    card: str


class VectorHit(NamedTuple):
    """A vector signal's candidate, with what the keyword signal says of it (a partial match still scores)."""

    product_id: int
    score: float  # cosine similarity
    keyword_score: float  # BM25 over the query words it contains (0: none)
    keyword_member: bool  # matches the query's words well enough to be in the match set by keywords alone


@dataclass
class Candidates:
    """Everything the signals found for one query under its filters.

    ``keyword`` holds the best keyword members (by BM25, best first; all of them up to what the page needs) and
    ``keyword_total`` how many there are in all; ``keyword_facets`` counts the facets of all of them. ``vectors``
    holds each vector signal's nearest products (members or not: ``search.match_set`` decides)."""

    kind: str  # "text" or "photo"
    keyword: list[tuple[int, float]] = field(default_factory=list)
    keyword_total: int = 0
    keyword_facets: list[tuple[str, int]] = field(default_factory=list)
    # The query names a category (``search.keywords.query_kinds``): its products are the keyword members, and
    # vectors rank them without adding others.
    names_category: bool = False
    vectors: dict[str, list[VectorHit]] = field(default_factory=dict)
    docs: dict[int, Document] = field(default_factory=dict)


@dataclass
class SearchResult:
    total: int
    ranking: list[Ranked]  # the page, best first
    facets: dict[str, list[dict]]
    products: list[dict]  # the page's products, same order as ranking
    corrected_query: str = ""
    mode: str = "hybrid"  # "hybrid", "photo", "keyword" (no generation active yet), "browse"
    # For the search log (``search.match_set.MatchSet``): each vector signal's best similarity, and whether any
    # candidate reached the threshold of a signal that admits (None: no vector signal ran: browse, keyword mode).
    best_similarity: dict[str, float] = field(default_factory=dict)
    vector_covered: bool | None = None
    # The merchandisers' levers that changed this search (``search.rules``, ``search.synonyms``), for ``explain``,
    # a rule's redirect, and the stamp it was computed with: the levers' version (``search.merchandising``) and the
    # catalog position its reads included (``search.cache.Stamp``).
    synonyms: list[dict] = field(default_factory=list)
    rules: list[dict] = field(default_factory=list)
    redirect_url: str = ""
    merchandising_version: str | None = None
