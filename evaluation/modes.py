"""Retrieval modes of an evaluation: each of search's signals alone, and the production hybrid.

No second search engine: a text or photo query reads the very candidates ``search_products`` reads
(``search.candidates``, typo correction included, the keyword members as deep as ``MATCH_DEPTH``) once, and every
mode orders them:

- ``hybrid``: the production match set and its ranking (``search.match_set``), every member;
- ``fulltext``: the keyword members, by BM25;
- a vector signal alone: its nearest products by similarity (the ranking), and those at or above its relevance
  threshold (its result set).

Each mode's list is its whole result set, so the metrics see every page (precision, recall and F1 of the set) as
well as its top 10. Similar-item queries go through ``similar_products`` with one signal's weight and no
diversification, or with the production settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings

from catalog.models import Product
from catalog.photos import open_checked
from embeddings.models import EmbeddingGeneration
from embeddings.queries import photo_query
from recommendations.selectors import NotEmbedded, similar_products
from search.candidates import photo_candidates, text_candidates
from search.keywords import keyword_query
from search.match_set import match_set, signal_scales
from search.ranking import FusionConfig
from search.spelling import current_vocabulary
from search.types import Candidates, SearchQuery

from .evalfiles import EvalQuery

MODES = ("fulltext", "text_vector", "image", "cross_modal", "fused", "hybrid")
MODE_LABELS = {
    "fulltext": "full-text only",
    "text_vector": "text vector only",
    "image": "image vector only",
    "cross_modal": "aligned cross-modal only",
    "fused": "fused multimodal",
    "hybrid": "production hybrid",
}
# The modes that mean something for each kind of query (a photo has no words; similar items have no query text,
# and their signals are the fused, image and text vectors of the product itself).
KIND_MODES = {
    "text": ("fulltext", "text_vector", "cross_modal", "fused", "hybrid"),
    "photo": ("image", "cross_modal", "fused", "hybrid"),
    "similar": ("text_vector", "image", "fused", "hybrid"),
}
# Similar items per query that the metrics read (NDCG@10, Recall@10, MRR and P@5 within them).
DEPTH = 10
# Keyword members read per text query: the whole match set of any query on catalogs of tens of thousands.
MATCH_DEPTH = 5000


@dataclass
class PreparedQuery:
    """A query with what its rankings are made from: search's candidates (text and photo queries)."""

    query: EvalQuery
    candidates: Candidates | None = None
    problem: str = ""  # why it could not be run (unknown sku, unreadable photo): it then ranks nothing


def search_candidates(generation: EmbeddingGeneration, query: EvalQuery) -> Candidates:
    """Every signal's candidates for a text or photo query, as ``search_products`` reads them."""
    text = query.text.strip()
    if query.kind == "photo":
        photo = photo_query(generation, open_checked(query.image.read_bytes()), text)
        return photo_candidates(generation, SearchQuery(text=text, photo=photo))
    corrected = current_vocabulary().correct_query(text)
    keyword = keyword_query(corrected.alternatives)
    return text_candidates(generation, SearchQuery(text=text), keyword, corrected.corrected, MATCH_DEPTH)


def prepare(generation: EmbeddingGeneration, query: EvalQuery) -> PreparedQuery:
    if query.kind == "similar":
        return PreparedQuery(query)
    try:
        return PreparedQuery(query, search_candidates(generation, query))
    except (OSError, ValueError) as exc:  # a photo that is missing or not an image
        return PreparedQuery(query, problem=f"line {query.line}: {exc}")


def mode_fusion(mode: str, generation: EmbeddingGeneration) -> FusionConfig:
    """How ``mode`` fuses: the generation's production fusion, or one signal alone."""
    if mode == "hybrid":
        return FusionConfig.from_settings(generation=generation)
    return FusionConfig(method="weighted", weights={mode: 1.0})


def hybrid_ids(
    prepared: PreparedQuery,
    generation: EmbeddingGeneration,
    config: FusionConfig,
    thresholds: Mapping[str, float] | None = None,
) -> list[int]:
    """The whole match set of a prepared text or photo query under ``config`` (and ``thresholds``), best first."""
    if prepared.candidates is None:
        return []
    return [r.product_id for r in match_set(prepared.candidates, generation, config, thresholds).ranking]


def signal_ids(prepared: PreparedQuery, generation: EmbeddingGeneration, signal: str) -> tuple[list[int], list[int]]:
    """One signal alone: its ranking and its result set. The keyword members by BM25 (both); a vector signal's
    nearest products by similarity, and those of them at or above its threshold."""
    found = prepared.candidates
    if found is None:
        return [], []
    if signal == "fulltext":
        members = [product_id for product_id, _ in found.keyword]
        return members, members
    scale = signal_scales(generation, found.kind).get(signal)
    hits = found.vectors.get(signal, [])
    ranking = [hit.product_id for hit in hits]
    return ranking, [hit.product_id for hit in hits if scale is None or hit.score >= scale.threshold]


def similar_ids(generation: EmbeddingGeneration, sku: str, mode: str) -> list[int]:
    """Similar items of ``sku`` as the storefront's defaults give them (``hybrid``), or by one signal alone."""
    product = Product.objects.select_related("primary_category").filter(sku=sku).first()
    if product is None:
        raise LookupError(f"unknown sku {sku!r}")
    options = {}
    if mode != "hybrid":
        options = {"weights": {name: float(name == mode) for name in settings.SIMILAR_SIGNAL_WEIGHTS},
                   "relevance_weight": 1.0}  # fmt: skip
    result = similar_products(
        product=product, generation=generation, k=DEPTH, same_category=False, in_stock=None, **options
    )
    return [ranked.product_id for ranked in result.ranking]


def generation_modes(generation: EmbeddingGeneration, kind: str) -> tuple[str, ...]:
    """The modes of ``kind`` that ``generation`` has: a text-only generation has no joint space of its own (its
    cross-modal and fused signals are not read), so those modes are left out of its report."""
    if generation.text_only:
        return tuple(mode for mode in KIND_MODES[kind] if mode not in ("cross_modal", "fused"))
    return KIND_MODES[kind]


def mode_rankings(
    generation: EmbeddingGeneration, prepared: PreparedQuery, skus: dict[int, str]
) -> dict[str, tuple[list[str], list[str]]]:
    """Mode -> (ranked skus, result set) for every mode of the query's kind: the hybrid's match set (both), one
    signal's ranking and its set above its threshold, at most ``DEPTH`` similar items (both)."""
    query = prepared.query
    rankings: dict[str, tuple[list[str], list[str]]] = {}
    for mode in generation_modes(generation, query.kind):
        ids: list[int] = []
        members: list[int] | None = None
        if prepared.problem:
            pass
        elif query.kind == "similar":
            try:
                ids = similar_ids(generation, query.sku, mode)
            except (LookupError, NotEmbedded) as exc:
                prepared.problem = f"line {query.line}: {exc}"
        elif mode == "hybrid":
            ids = hybrid_ids(prepared, generation, mode_fusion(mode, generation))
        else:
            ids, members = signal_ids(prepared, generation, mode)
        ranked = [skus[pid] for pid in ids if pid in skus]
        rankings[mode] = (ranked, ranked if members is None else [skus[pid] for pid in members if pid in skus])
    return rankings
