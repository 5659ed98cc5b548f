"""Similar items: the nearest products by the fused vector, with the image and text signals, diversified.
Only candidates at or above each signal's relevance threshold for similar items (``search.match_set``) count.

Candidates come from three signals in one statement (fused joint space, image space, text space; a signal of
weight 0 still brings its candidates), are fused with the closeness of their categories and, among products of
the same kind, their price tier against the product's (an upsell: the same price or a step up before a cheaper
one; ``SIMILAR_FUSION``: weighted by default), then re-ranked by maximal marginal relevance on the fused vectors
so that near-duplicates (the same item in ten colours) do not fill the list. A product's default list is also
stored (``SimilarList``, written by ``services.py``) and read back here in one row.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
from django.conf import settings

from catalog.models import Product
from embeddings.indexes import vector_expression
from embeddings.models import EmbeddingGeneration
from search.cards import card_texts, products_for_page
from search.filters import Filters, filters_sql
from search.match_set import signal_scales
from search.ranking import FusionConfig, Ranked, Scale, fuse
from shop_search.db import read_connection

SIMILAR_SIGNALS = (("fused", "fused"), ("image", "image_vector"), ("text_vector", "text_vector"))


# The most similar items one request may ask for; stored lists hold this many.
MAX_SIMILAR = 50
# A stored list is read with this many spare items, standing in for products deleted since it was computed.
SPARE_ON_READ = 5


@dataclass
class SimilarResult:
    ranking: list[Ranked]
    products: list[dict]
    stored: bool = False  # read from a precomputed list


class NotEmbedded(LookupError):
    pass


def vector_from_send(data: bytes) -> np.ndarray:
    """A ``vector`` in pgvector's binary send format: uint16 dimensions, uint16 unused, big-endian float32s."""
    dim = int.from_bytes(data[:2], "big")
    return np.frombuffer(data, dtype=">f4", count=dim, offset=4).astype(np.float32)


def category_closeness(a: str | None, b: str | None) -> float:
    """Shared leading path parts over the longer path: 1 for the same category, 0.5 for siblings two levels down."""
    if not a or not b:
        return 0.0
    left, right = a.split("/"), b.split("/")
    shared = 0
    for x, y in zip(left, right, strict=False):
        if x != y:
            break
        shared += 1
    return shared / max(len(left), len(right))


# The price tier (``price_tier``) is 0.5 at the product's own price and reaches 1 (0) at this much dearer
# (cheaper), on a log scale: "the same or a step up" counts, cents do not.
PRICE_TIER_BAND = 0.1
# The price signal is on an absolute 0..1 scale: not relative to the dearest candidate.
ABSOLUTE = Scale(floor=0.0, threshold=0.0, typical=1.0)


def price_tier(price: float | None, own: float) -> float:
    """Where ``price`` stands against the product's own price ``own`` (same currency): 0.5 at the same price, rising
    to 1 for ``PRICE_TIER_BAND`` (10%) dearer or more, falling to 0 for as much cheaper; 0.5 (no evidence) when
    the candidate has no price in the product's currency."""
    if price is None:
        return 0.5
    if own <= 0 or price <= 0:
        return 0.5 + 0.5 * ((price > own) - (price < own))
    return min(1.0, max(0.0, 0.5 + math.log(price / own) / (2 * math.log1p(PRICE_TIER_BAND))))


def stored_similar(*, sku: str, generation: EmbeddingGeneration, k: int) -> SimilarResult | None:
    """The first ``k`` items of the product's precomputed list, if it is current (computed from the product's
    present vectors) and enough of its products still exist; otherwise None (no such product either). One
    statement: only the head of the list that ``first_existing`` looks at leaves the database, each item with its
    product's card."""
    with read_connection().cursor() as cursor:
        cursor.execute(_STORED_HEAD_SQL, [generation.pk, f"$[0 to {k + SPARE_ON_READ - 1}]", sku])
        rows = cursor.fetchall()
    if not rows:
        return None
    ranking, cards = [], {}
    for item, card in rows:
        if item is None:  # the list is current and empty
            continue
        product_id, score, signals = json.loads(item)
        ranking.append(Ranked(product_id, score, {signal: tuple(value) for signal, value in signals.items()}))
        if card is not None:  # None: deleted since the list was computed
            cards[product_id] = card
    return first_existing(ranking, k, stored=True, cards=cards)


# The head of a product's current list (by SKU), one row per item in list order, with the item's result card;
# one row with NULLs for a current empty list, none without a current list.
_STORED_HEAD_SQL = """
SELECT item.value::text, d.card::text
FROM catalog_product p
JOIN recommendations_similarlist s ON s.generation_id = %s AND s.product_id = p.id
JOIN embeddings_productembedding e ON e.generation_id = s.generation_id AND e.product_id = s.product_id
     AND e.content_version = s.content_version
LEFT JOIN LATERAL jsonb_array_elements(jsonb_path_query_array(s.items, %s::jsonpath))
     WITH ORDINALITY AS item(value, position) ON true
LEFT JOIN search_searchdocument d ON d.product_id = (item.value ->> 0)::bigint
WHERE p.sku = %s
ORDER BY item.position
"""


def first_existing(ranking: list[Ranked], k: int, *, stored: bool, cards: dict[int, str] | None = None
                   ) -> SimilarResult | None:  # fmt: skip
    """The first ``k`` products of a full similar-item list that still exist, with their cards (``card_texts``,
    read in one query unless given; a few spares stand in for products deleted since the list was computed); None
    when deletions left too few."""
    spared = ranking[: k + SPARE_ON_READ]
    cards = card_texts([r.product_id for r in spared]) if cards is None else cards
    chosen = [r for r in spared if r.product_id in cards][:k]
    if len(chosen) < min(k, len(ranking)):
        return None
    products = products_for_page([r.product_id for r in chosen], cards)
    return SimilarResult(ranking=chosen, products=products, stored=stored)


def similar_products(
    *,
    product: Product,
    generation: EmbeddingGeneration,
    k: int,
    same_category: bool,
    in_stock: bool | None,
    weights: dict[str, float] | None = None,
    relevance_weight: float | None = None,
) -> SimilarResult:
    """Up to ``k`` products like ``product``, computed live from the vector indexes."""
    ranking = similar_ranking(
        product=product,
        generation=generation,
        k=k,
        same_category=same_category,
        in_stock=in_stock,
        weights=weights,
        relevance_weight=relevance_weight,
    )
    return SimilarResult(ranking=ranking, products=products_for_page([r.product_id for r in ranking]))


def similar_ranking(
    *,
    product: Product,
    generation: EmbeddingGeneration,
    k: int,
    same_category: bool,
    in_stock: bool | None,
    weights: dict[str, float] | None = None,
    relevance_weight: float | None = None,
) -> list[Ranked]:
    """The diversified similar items of ``product`` (never itself; its variants are part of it, never separate),
    from the vector indexes; ``NotEmbedded`` when the product has no vectors in ``generation``."""
    filters = Filters(
        category=product.primary_category.path if same_category and product.primary_category_id else "",
        in_stock=in_stock,
    )
    where, where_params = filters_sql(filters)
    join = "" if where == "true" else " JOIN catalog_product p ON p.id = e.product_id"
    n = settings.SIMILAR_CANDIDATES
    # The product's own vectors stay in the database: each signal orders by distance to a scalar subquery, which
    # PostgreSQL evaluates once and the HNSW index accepts. The first row says whether the product has vectors.
    own = "(SELECT {0} FROM embeddings_productembedding WHERE generation_id = %s AND product_id = %s)"
    parts = ["(SELECT 'own' AS signal, product_id, 0.0 AS score, NULL AS fused, NULL AS category, NULL AS price "
             "FROM embeddings_productembedding WHERE generation_id = %s AND product_id = %s)"]  # fmt: skip
    params: list = [generation.pk, product.pk]
    weights = {**settings.SIMILAR_SIGNAL_WEIGHTS, **(weights or {})}
    for signal, column in SIMILAR_SIGNALS:
        expression, dim = vector_expression(generation, column)
        target = own.format(expression)
        # Only the fused candidates carry their vector: diversification compares picks by it.
        # Binary (pgvector's send format), far cheaper to read than the text form.
        vector = "vector_send(e.fused)" if signal == "fused" else "NULL"
        parts.append(
            f"(SELECT '{signal}', e.product_id, 1 - ({expression} <=> {target}), {vector}, "
            f"(SELECT c.path FROM catalog_category c JOIN catalog_product q ON q.primary_category_id = c.id "
            f"WHERE q.id = e.product_id), "
            f"(SELECT q.price FROM catalog_product q WHERE q.id = e.product_id AND q.currency = %s) "
            f"FROM embeddings_productembedding e{join} "
            f"WHERE e.generation_id = %s AND e.product_id <> %s AND {expression} IS NOT NULL AND {where} "
            f"ORDER BY {expression} <=> {target} LIMIT %s)"
        )
        params += [generation.pk, product.pk, product.currency, generation.pk, product.pk, *where_params,
                   generation.pk, product.pk, n]  # fmt: skip
    with read_connection().cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        rows = cursor.fetchall()
    if not rows or rows[0][0] != "own":
        raise NotEmbedded(f"{product.sku} has no vectors in generation {generation.pk} yet")
    rows = rows[1:]
    lists: dict[str, list[tuple[int, float]]] = {}
    vectors: dict[int, np.ndarray] = {}
    paths: dict[int, str | None] = {}
    prices: dict[int, float | None] = {}
    # A candidate less similar than what unrelated products typically reach (calibrated per generation and
    # signal) is no evidence of likeness: a product with nothing like it in the catalog has no similar items.
    scales = signal_scales(generation, "similar")
    for signal, product_id, score, fused, path, price in rows:
        if score is None:  # the product has no vector in this space (no usable photo)
            continue
        if signal in scales and score < scales[signal].threshold:
            continue
        lists.setdefault(signal, []).append((product_id, float(score)))
        if fused is not None:
            vectors[product_id] = vector_from_send(fused)
        paths[product_id] = path
        prices[product_id] = None if price is None else float(price)
    for hits in lists.values():
        hits.sort(key=lambda hit: (-hit[1], hit[0]))
    # The catalog's own structure is evidence too: candidates in the product's category, then its neighbours.
    own_path = product.primary_category.path if product.primary_category_id else None
    closeness = {pid: category_closeness(own_path, path) for pid, path in paths.items()}
    lists["category"] = _best_first(closeness)
    # An upsell: among products of the same kind (as close in the catalog tree), the same price or a step up
    # rather than a cheaper one. The tier counts as much as the categories are close, so a dearer product of
    # another kind gains nothing from its price.
    if product.price is not None:
        own_price = float(product.price)
        lists["price"] = _best_first(
            {pid: near * price_tier(prices[pid], own_price) for pid, near in closeness.items()}
        )
    config = FusionConfig(method=settings.SIMILAR_FUSION, weights=weights, rrf_k=settings.SEARCH_RRF_K)
    ranking = fuse(lists, config, {"price": ABSOLUTE})
    if relevance_weight is None:
        relevance_weight = settings.SIMILAR_DIVERSITY_LAMBDA
    return diversify(ranking, vectors, k=k, relevance_weight=relevance_weight)


def _best_first(scores: dict[int, float]) -> list[tuple[int, float]]:
    """A signal's hits (score above 0), best first, ties by product id."""
    return sorted([hit for hit in scores.items() if hit[1] > 0], key=lambda hit: (-hit[1], hit[0]))


def diversify(
    ranking: list[Ranked], vectors: dict[int, np.ndarray], *, k: int, relevance_weight: float
) -> list[Ranked]:
    """Maximal marginal relevance: each next pick maximises ``w * relevance - (1 - w) * max similarity to the
    picks so far`` (relevance = fused score rescaled to 0..1, similarity = cosine of fused vectors). A candidate
    found only in the image or text space has no fused vector here and takes no penalty. Ties go to the better
    ranked candidate."""
    pool = ranking  # the whole candidate list, whatever k: every k's answer is a prefix of a longer one
    if not pool:
        return []
    top = pool[0].score or 1.0
    relevance = np.array([r.score / top for r in pool], dtype=np.float64)
    known = np.array([r.product_id in vectors for r in pool])
    dim = next(iter(vectors.values())).shape[0] if vectors else 1
    matrix = np.stack([vectors.get(r.product_id, np.zeros(dim, dtype=np.float32)) for r in pool])
    similarity = (matrix @ matrix.T).astype(np.float64)  # rows of unknown candidates are zero: no penalty
    penalty = np.zeros(len(pool))  # max similarity to the picks so far
    available = np.ones(len(pool), dtype=bool)
    chosen: list[Ranked] = []
    for step in range(min(k, len(pool))):
        value = relevance if step == 0 else relevance_weight * relevance - (1 - relevance_weight) * penalty
        best = int(np.argmax(np.where(available, value, -np.inf)))
        chosen.append(pool[best])
        available[best] = False
        if known[best]:
            penalty = np.maximum(penalty, similarity[best])
    return chosen
