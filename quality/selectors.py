"""Reads for the quality check: a generation's vectors with what the catalog says about each product and photo,
the colours of the photos' own pixels, near-duplicate candidates through the HNSW index, and the stored reports and
findings."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from django.core.files.storage import default_storage
from django.db import connection
from django.db.models import Count, QuerySet
from PIL import UnidentifiedImageError

from catalog.models import Product, ProductImage, Variant
from embeddings.indexes import vector_expression
from embeddings.models import EmbeddingGeneration, ImageEmbedding, ProductEmbedding
from embeddings.neural.encoders import COLOUR_SIZE, colour_appearance, open_image

from .checks import CatalogVectors
from .models import Dismissal, Finding, QualityReport

# Nearest products per product read through the HNSW index as near-duplicate candidates (catalogs above
# checks.EXACT_PAIRS_MAX products): one index scan per product, about 2 ms each (100 s at 50,000 products).
DUPLICATE_CANDIDATES = 5
# Vector rows read per round trip (a server-side cursor): memory stays at the arrays being filled.
READ_CHUNK = 2000
# Photos decoded at once for their colours (Pillow decodes outside the GIL).
PHOTO_READ_THREADS = 4

logger = logging.getLogger(__name__)


def _colours(value) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [v for v in values if isinstance(v, str) and v.strip()]


def _unit(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)


def catalog_vectors(generation: EmbeddingGeneration) -> CatalogVectors:
    """Every product embedded in ``generation`` (id order) and its photos with vectors: text and image vectors,
    primary category, stated colours, and the colours each photo is stated to show (its variants' colours; the
    product's one colour when it has no variants; none otherwise). At 50,000 products with 64,000 photos (the
    scaled catalog of bench/) 0.7 GB of float32 vectors."""
    products = ProductEmbedding.objects.filter(generation=generation)
    count = products.count()
    ids = []
    text = np.zeros((count, generation.text_dim), dtype=np.float32)
    image = np.zeros((count, generation.image_dim), dtype=np.float32)  # zeros: no photo
    # Streamed into preallocated float32 arrays: a list of every row first (each vector parsed from its text form)
    # took more than 9 GB at 50,000 products with 64,000 photos, the arrays take 0.7 GB.
    for row, (product_id, text_vector, image_vector) in enumerate(
        products.order_by("product_id")
        .values_list("product_id", "text_vector", "image_vector")
        .iterator(chunk_size=READ_CHUNK)
    ):
        ids.append(product_id)
        text[row] = text_vector
        if image_vector is not None:
            image[row] = image_vector
    ids_count = len(ids)
    text, image = text[:ids_count], image[:ids_count]  # rows deleted while reading
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
    photos = ImageEmbedding.objects.filter(generation=generation, product_id__in=ids)
    photo_count = photos.count()
    photo_ids, photo_products, photo_names = [], [], []
    photo_image = np.zeros((photo_count, generation.image_dim), dtype=np.float32)
    for row, (image_id, product_id, source, vector) in enumerate(
        photos.order_by("image_id")
        .values_list("image_id", "product_id", "image__source", "vector")
        .iterator(chunk_size=READ_CHUNK)
    ):
        photo_ids.append(image_id)
        photo_products.append(product_id)
        photo_names.append(source)
        photo_image[row] = vector
    photo_image = photo_image[: len(photo_ids)]
    colours = [_colours((info[i]["attributes"] or {}).get("color")) for i in ids]

    def photo_colours(image_id: int, product_id: int) -> list[str]:
        if image_id in image_colours:
            return image_colours[image_id]
        stated = colours[index[product_id]]
        return stated if product_id not in with_variants and len(stated) == 1 else []

    return CatalogVectors(
        product_ids=ids,
        skus=[info[i]["sku"] for i in ids],
        names=[info[i]["name"] for i in ids],
        categories=[info[i]["primary_category__path"] for i in ids],
        colours=colours,
        text=_unit(text),
        image=_unit(image),  # zeros: no photo
        photo_ids=photo_ids,
        photo_names=photo_names,
        photo_product=np.array([index[p] for p in photo_products], dtype=int),
        photo_colours=[photo_colours(i, p) for i, p in zip(photo_ids, photo_products, strict=True)],
        photo_image=_unit(photo_image),
    )


def photo_colour_histograms(photo_ids: list[int], bins: tuple[int, int, int]) -> np.ndarray:
    """(photos, hue x saturation x value bins): each photo's colour histogram from its stored file
    (``colour_appearance`` with ``bins``), JPEGs decoded at a reduced scale. A photo that cannot be read gets a row
    of zeros (it reads as no colour in particular)."""
    files = dict(ProductImage.objects.filter(id__in=photo_ids).values_list("id", "file"))

    def histogram(photo_id: int) -> np.ndarray | None:
        try:
            with default_storage.open(files[photo_id], "rb") as handle:
                image = open_image(handle.read(), draft_to=lambda _w, _h: (COLOUR_SIZE, COLOUR_SIZE))
            return colour_appearance(image, bins)
        except (KeyError, ValueError, OSError, SyntaxError, UnidentifiedImageError) as exc:
            logger.warning("quality check: photo %s unreadable for its colours: %s", photo_id, exc)
            return None

    result = np.zeros((len(photo_ids), int(np.prod(bins))), dtype=np.float32)
    with ThreadPoolExecutor(PHOTO_READ_THREADS) as pool:
        for row, values in enumerate(pool.map(histogram, photo_ids)):
            if values is not None:
                result[row] = values
    return result


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


def dismissals_recent(*, limit: int) -> list[Dismissal]:
    """The latest findings marked as fine, with their products; ``lapsed`` set on each whose product changed since
    (the check judges it afresh). 1 query."""
    dismissals = list(Dismissal.objects.select_related("product").order_by("-id")[:limit])
    for dismissal in dismissals:
        dismissal.lapsed = dismissal.product.content_version != dismissal.content_version
    return dismissals
