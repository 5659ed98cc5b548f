"""Reads for the quality check: a generation's vectors with what the catalog says about each product and photo,
near-duplicate candidates through the HNSW index, and the stored reports and findings."""

from __future__ import annotations

import numpy as np
from django.db import connection
from django.db.models import Count, QuerySet

from catalog.models import Product, Variant
from embeddings.indexes import vector_expression
from embeddings.models import EmbeddingGeneration, ImageEmbedding, ProductEmbedding

from .checks import CatalogVectors
from .models import Finding, QualityReport

# Nearest products per product read through the HNSW index as near-duplicate candidates (catalogs above
# checks.EXACT_PAIRS_MAX products): one index scan per product, about 2 ms each (100 s at 50,000 products).
DUPLICATE_CANDIDATES = 5


def _colours(value) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [v for v in values if isinstance(v, str) and v.strip()]


def _unit(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)


def catalog_vectors(generation: EmbeddingGeneration) -> CatalogVectors:
    """Every product embedded in ``generation`` (id order) and its photos with vectors: text and image vectors,
    primary category, stated colours, and the colours each photo is stated to show (its variants' colours; the
    product's one colour when it has no variants; none otherwise). 5 queries; at 50,000 products with 150,000
    photos about 1.2 GB of vectors in memory."""
    rows = list(
        ProductEmbedding.objects.filter(generation=generation)
        .order_by("product_id")
        .values_list("product_id", "text_vector", "image_vector")
    )
    ids = [row[0] for row in rows]
    index = {product_id: i for i, product_id in enumerate(ids)}
    info = {
        p["id"]: p
        for p in Product.objects.filter(id__in=ids).values("id", "sku", "name", "attributes", "primary_category__path")
    }
    with_variants = set(Variant.objects.filter(product_id__in=ids).values_list("product_id", flat=True).distinct())
    image_colours: dict[int, list[str]] = {}
    through = Variant.images.through.objects.filter(variant__product_id__in=ids)
    for image_id, attributes in through.values_list("productimage_id", "variant__attributes"):
        for colour in _colours((attributes or {}).get("color")):
            if colour not in image_colours.setdefault(image_id, []):
                image_colours[image_id].append(colour)
    photos = list(
        ImageEmbedding.objects.filter(generation=generation, product_id__in=ids)
        .order_by("image_id")
        .values_list("image_id", "product_id", "image__source", "vector")
    )
    colours = [_colours((info[i]["attributes"] or {}).get("color")) for i in ids]

    def photo_colours(image_id: int, product_id: int) -> list[str]:
        if image_id in image_colours:
            return image_colours[image_id]
        stated = colours[index[product_id]]
        return stated if product_id not in with_variants and len(stated) == 1 else []

    image_dim = generation.image_dim
    images = [row[2] if row[2] is not None else np.zeros(image_dim) for row in rows]
    return CatalogVectors(
        product_ids=ids,
        skus=[info[i]["sku"] for i in ids],
        names=[info[i]["name"] for i in ids],
        categories=[info[i]["primary_category__path"] for i in ids],
        colours=colours,
        text=_unit(np.array([row[1] for row in rows]).reshape(len(rows), generation.text_dim)),
        image=_unit(np.array(images).reshape(len(rows), image_dim)),  # zeros: no photo
        photo_ids=[row[0] for row in photos],
        photo_names=[row[2] for row in photos],
        photo_product=np.array([index[row[1]] for row in photos], dtype=int),
        photo_colours=[photo_colours(row[0], row[1]) for row in photos],
        photo_image=_unit(np.array([row[3] for row in photos]).reshape(len(photos), image_dim)),
    )


def duplicate_candidates(generation: EmbeddingGeneration, *, k: int = DUPLICATE_CANDIDATES) -> list[tuple[int, int]]:
    """Each product's ``k`` nearest other products by fused vector, through the generation's HNSW index (one index
    scan per product, in one statement): (product id, product id) pairs, smaller id first."""
    expression, dim = vector_expression(generation, "fused")
    inner = expression.replace("fused", "e.fused")
    outer = expression.replace("fused", "a.fused")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT a.product_id, near.product_id FROM embeddings_productembedding a CROSS JOIN LATERAL ("
            f"SELECT e.product_id FROM embeddings_productembedding e WHERE e.generation_id = %s "
            f"AND e.product_id <> a.product_id ORDER BY {inner} <=> {outer} LIMIT %s) near "
            f"WHERE a.generation_id = %s",
            [generation.pk, k, generation.pk],
        )
        return sorted({(min(a, b), max(a, b)) for a, b in cursor.fetchall()})


def report_latest(generation: EmbeddingGeneration | None) -> QualityReport | None:
    if generation is None:
        return None
    return QualityReport.objects.filter(generation=generation).order_by("-id").first()


def findings_list(*, report: QualityReport, kind: str | None = None, limit: int | None = None) -> QuerySet[Finding]:
    """A report's findings worst first (of one kind, if given), with their products and photos. 1 query."""
    findings = report.findings.select_related("product", "image", "other_product").order_by("-score", "id")
    if kind:
        findings = findings.filter(kind=kind)
    return findings[:limit] if limit else findings


def finding_counts(report: QualityReport) -> dict[str, int]:
    """Findings of each kind (every kind present, 0 for none). 1 query."""
    counts = dict.fromkeys(Finding.Kind.values, 0)
    counts.update(report.findings.order_by().values_list("kind").annotate(n=Count("id")))
    return counts
