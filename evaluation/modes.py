"""Retrieval modes of an evaluation: each of search's signals alone, and the production hybrid.

No second search engine: a text or photo query reads the very candidates ``search_products`` ranks
(``search.selectors.candidates``, typo correction included) once, and every mode orders them with
``search.ranking.fuse``; only the weights differ. A single-signal mode keeps that signal's list alone, so products
found only by other signals do not pad it. Similar-item queries go through ``similar_products`` with one signal's
weight and no diversification, or with the production settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings

from catalog.models import Product
from catalog.photos import open_checked
from embeddings.models import EmbeddingGeneration
from recommendations.selectors import NotEmbedded, similar_products
from search.ranking import FusionConfig, fuse
from search.selectors import SearchQuery, candidates, photo_query
from search.spelling import current_vocabulary

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
# Results per query that the metrics read (NDCG@10, Recall@10, and MRR within them).
DEPTH = 10


@dataclass
class PreparedQuery:
    """A query with what its rankings are made from: search's candidate lists (text and photo queries)."""

    query: EvalQuery
    lists: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    problem: str = ""  # why it could not be run (unknown sku, unreadable photo): it then ranks nothing


def search_signals(generation: EmbeddingGeneration, query: EvalQuery) -> dict[str, list[tuple[int, float]]]:
    """Every signal's candidates for a text or photo query, as ``search_products`` reads them."""
    text = query.text.strip()
    photo = None
    if query.kind == "photo":
        photo = photo_query(generation, open_checked(query.image.read_bytes()), text)
    corrected = current_vocabulary().correct_query(text) if text else None
    return candidates(
        generation,
        SearchQuery(text=text, photo=photo),
        corrected.alternatives if corrected else [],
        corrected.corrected if corrected else "",
    )


def prepare(generation: EmbeddingGeneration, query: EvalQuery) -> PreparedQuery:
    if query.kind == "similar":
        return PreparedQuery(query)
    try:
        return PreparedQuery(query, search_signals(generation, query))
    except (OSError, ValueError) as exc:  # a photo that is missing or not an image
        return PreparedQuery(query, problem=f"line {query.line}: {exc}")


def mode_fusion(mode: str, generation: EmbeddingGeneration) -> FusionConfig:
    """How ``mode`` fuses: the generation's production fusion, or one signal alone."""
    if mode == "hybrid":
        return FusionConfig.from_settings(generation=generation)
    return FusionConfig(method="weighted", weights={mode: 1.0})


def fused_ids(prepared: PreparedQuery, config: FusionConfig, *, only: str | None = None) -> list[int]:
    """The best ``DEPTH`` product ids of a prepared text or photo query under ``config``."""
    lists = {only: prepared.lists.get(only, [])} if only else prepared.lists
    return [ranked.product_id for ranked in fuse(lists, config)[:DEPTH]]


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


def mode_rankings(
    generation: EmbeddingGeneration, prepared: PreparedQuery, skus: dict[int, str]
) -> dict[str, list[str]]:
    """Mode -> ranked skus (best first, at most ``DEPTH``) for every mode of the query's kind."""
    query = prepared.query
    rankings: dict[str, list[str]] = {}
    for mode in KIND_MODES[query.kind]:
        if prepared.problem:
            ids: list[int] = []
        elif query.kind == "similar":
            try:
                ids = similar_ids(generation, query.sku, mode)
            except (LookupError, NotEmbedded) as exc:
                prepared.problem = f"line {query.line}: {exc}"
                ids = []
        else:
            ids = fused_ids(prepared, mode_fusion(mode, generation), only=None if mode == "hybrid" else mode)
        rankings[mode] = [skus[pid] for pid in ids if pid in skus]
    return rankings
