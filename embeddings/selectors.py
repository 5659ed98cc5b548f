"""Reads for embeddings: the active generation, what a product's vectors are made from, nearest neighbours."""

from __future__ import annotations

import numpy as np
from django.db import connection
from django.db.models import Count, Prefetch, Q

from catalog.models import Product, ProductImage, Review

from .indexes import vector_expression
from .models import EmbeddingGeneration, Job
from .texts import PhotoContent, ProductContent


def active_generation() -> EmbeddingGeneration | None:
    return EmbeddingGeneration.objects.filter(state=EmbeddingGeneration.State.ACTIVE).select_related("head").first()


def live_generations() -> list[EmbeddingGeneration]:
    """Generations that must follow catalog changes: the active one and any being built."""
    states = [EmbeddingGeneration.State.ACTIVE, EmbeddingGeneration.State.BUILDING]
    return list(EmbeddingGeneration.objects.filter(state__in=states).order_by("id"))


def generations_overview() -> list[EmbeddingGeneration]:
    """Every generation, newest first, with ``product_count`` (products with vectors) and
    ``with_photo_count`` (of those, products embedded with at least one photo). 1 query."""
    return list(
        EmbeddingGeneration.objects.select_related("head")
        .annotate(
            product_count=Count("product_embeddings"),
            with_photo_count=Count("product_embeddings", filter=Q(product_embeddings__photo_count__gt=0)),
        )
        .order_by("-id")
    )


# Jobs shown on the operations page (and polled by it): those still going and the latest finished ones.
RECENT_JOBS = 10


def jobs_recent(*, limit: int = RECENT_JOBS) -> list[Job]:
    """Queued and running jobs, then the most recent others, newest first."""
    live = list(Job.objects.filter(state__in=[Job.State.QUEUED, Job.State.RUNNING]).order_by("-id"))
    finished = Job.objects.exclude(pk__in=[job.pk for job in live]).order_by("-id")[: max(0, limit - len(live))]
    return live + list(finished)


def product_contents(product_ids: list[int]) -> list[tuple[ProductContent, int]]:
    """Everything the embeddings read about these products, with the content version it reflects. 4 queries."""
    products = (
        Product.objects.filter(id__in=product_ids)
        .order_by("id")
        .prefetch_related(
            Prefetch("images", queryset=ProductImage.objects.filter(error="").exclude(file="").order_by("position")),
            Prefetch("images__variants"),
            Prefetch("reviews", queryset=Review.objects.only("id", "product_id", "title").order_by("id")),
            "categories",
        )
    )
    result = []
    for product in products:
        categories = sorted(product.categories.all(), key=lambda c: (c.id != product.primary_category_id, c.path))
        photos = []
        for image in product.images.all():
            colors = []
            for variant in image.variants.all():
                color = variant.attributes.get("color")
                if isinstance(color, str) and color not in colors:
                    colors.append(color)
            photos.append(PhotoContent(image_id=image.id, file=image.file.name, colors=colors))
        content = ProductContent(
            id=product.id,
            sku=product.sku,
            name=product.name,
            brand=product.brand,
            categories=[c.path for c in categories],
            attributes=product.attributes,
            description=product.description,
            review_titles=[review.title for review in product.reviews.all()],
            photos=photos,
        )
        result.append((content, product.content_version))
    return result


def nearest_products(
    generation: EmbeddingGeneration, vector: np.ndarray, *, column: str = "fused", k: int = 10
) -> list[tuple[int, float]]:
    """The ``k`` products nearest to ``vector`` by cosine distance on ``column``: (product id, distance)."""
    expression, dim = vector_expression(generation, column)
    if len(vector) != dim:
        raise ValueError(f"query vector has {len(vector)} dimensions, generation {generation.pk} {column} has {dim}")
    literal = "[" + ",".join(f"{x:.7g}" for x in np.asarray(vector, dtype=np.float32)) + "]"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT product_id, {expression} <=> %s::halfvec({dim}) AS distance "
            f"FROM embeddings_productembedding WHERE generation_id = %s AND {expression} IS NOT NULL "
            f"ORDER BY distance LIMIT %s",
            [literal, generation.pk, k],
        )
        return [(row[0], float(row[1])) for row in cursor.fetchall()]


def generation_photo_vectors_exist(generation: EmbeddingGeneration) -> bool:
    """Whether any photo of the catalog has a vector in ``generation`` (photo search needs one)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM embeddings_imageembedding WHERE generation_id = %s)", [generation.pk]
        )
        return cursor.fetchone()[0]
