"""Similar-item decisions: serve the precomputed list or compute (and keep) a new one; (re)build every list."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from catalog.models import Product
from embeddings.models import EmbeddingGeneration, ProductEmbedding
from search.ranking import Ranked

from .models import SimilarList
from .selectors import (
    MAX_SIMILAR,
    NotEmbedded,
    SimilarResult,
    first_existing,
    similar_products,
    similar_ranking,
    stored_similar,
)

logger = logging.getLogger(__name__)

# Products read per batch of a list build.
BUILD_BATCH = 200


def similar_items(
    *,
    sku: str,
    generation: EmbeddingGeneration,
    k: int,
    same_category: bool = False,
    in_stock: bool | None = None,
    weights: dict[str, float] | None = None,
    relevance_weight: float | None = None,
) -> SimilarResult:
    """What a product page shows. The default request (no filters, default weights) reads the product's stored
    list; when there is none (or it is out of date) the whole list is computed, stored, and its first ``k``
    returned. Filtered or re-weighted requests are computed live. ``Product.DoesNotExist`` for an unknown SKU."""
    default = not same_category and in_stock is None and weights is None and relevance_weight is None
    if default:
        stored = stored_similar(sku=sku, generation=generation, k=k)
        if stored is not None:
            return stored
    product = Product.objects.select_related("primary_category").get(sku=sku)
    if not default:
        return similar_products(
            product=product,
            generation=generation,
            k=k,
            same_category=same_category,
            in_stock=in_stock,
            weights=weights,
            relevance_weight=relevance_weight,
        )
    ranking = similar_list_refresh(product=product, generation=generation)
    return first_existing(ranking, k, stored=False) or SimilarResult(ranking=[], products=[])


def similar_list_refresh(*, product: Product, generation: EmbeddingGeneration) -> list[Ranked]:
    """Compute and store the product's default list, and return it (``NotEmbedded`` propagates)."""
    version = (
        ProductEmbedding.objects.filter(generation=generation, product=product)
        .values_list("content_version", flat=True)
        .first()
    )
    ranking = _default_ranking(product, generation)
    _store([_list_row(product, generation, version, ranking)])
    return ranking


def _default_ranking(product: Product, generation: EmbeddingGeneration) -> list[Ranked]:
    return similar_ranking(product=product, generation=generation, k=MAX_SIMILAR, same_category=False,
                           in_stock=None)  # fmt: skip


def _list_row(
    product: Product, generation: EmbeddingGeneration, version: int | None, ranking: list[Ranked]
) -> SimilarList:
    items = [[r.product_id, r.score, {s: list(v) for s, v in r.signals.items()}] for r in ranking]
    return SimilarList(generation=generation, product=product, content_version=version, items=items)


def _store(rows: list[SimilarList]) -> None:
    """Insert or replace lists (last writer wins), in one statement."""
    SimilarList.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["generation", "product"],
        update_fields=["content_version", "items", "computed_at"],
    )


def similar_lists_build(
    *,
    generation: EmbeddingGeneration,
    only_missing: bool = False,
    id_range: tuple[int, int] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """(Re)compute the stored lists of every embedded product of ``generation`` (only those without a current
    list with ``only_missing``; only product ids ``first <= id <= last`` with ``id_range``, so that several
    processes can share the work); returns how many were computed. New products reach other products' lists
    here, so the beat schedule runs it daily."""
    embedded = ProductEmbedding.objects.filter(generation=generation).order_by("product_id")
    if id_range is not None:
        embedded = embedded.filter(product_id__gte=id_range[0], product_id__lte=id_range[1])
    todo = list(embedded.values_list("product_id", "content_version"))
    if only_missing:
        have = set(SimilarList.objects.filter(generation=generation).values_list("product_id", "content_version"))
        todo = [entry for entry in todo if entry not in have]
    products = Product.objects.only("id", "primary_category_id", "content_version", "price", "currency")
    done = 0
    if progress:
        progress(0, len(todo))
    for start in range(0, len(todo), BUILD_BATCH):
        versions = dict(todo[start : start + BUILD_BATCH])
        rows = []
        for product in products.filter(pk__in=versions):
            with contextlib.suppress(NotEmbedded):  # its vectors were removed meanwhile
                rows.append(_list_row(product, generation, versions[product.pk], _default_ranking(product, generation)))
        _store(rows)
        done = min(start + BUILD_BATCH, len(todo))
        if progress:
            progress(done, len(todo))
    logger.info("similar-item lists of generation %s: %s computed", generation.pk, done)
    return done
