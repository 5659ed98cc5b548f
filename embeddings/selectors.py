"""Reads for embeddings: the active generation, what a product's vectors are made from, nearest neighbours."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connection
from django.db.models import Count, Prefetch, Q, Sum, Value

from catalog.models import Product, ProductImage, Review
from shop_search.db import read_connection

from .indexes import vector_expression
from .models import BuildChunk, EmbeddingGeneration, Job
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
    """Queued and running jobs, then the most recent others, newest first. A build job carries ``chunks``: its
    generation's ``BuildChunkSummary`` (None before it has chunks). 2 to 4 queries."""
    live = list(Job.objects.filter(state__in=[Job.State.QUEUED, Job.State.RUNNING]).order_by("-id"))
    finished = Job.objects.exclude(pk__in=[job.pk for job in live]).order_by("-id")[: max(0, limit - len(live))]
    jobs = live + list(finished)
    builds = [job for job in jobs if job.kind == Job.Kind.BUILD and job.generation_id]
    summaries = build_chunks_summaries([job.generation_id for job in builds]) if builds else {}
    for job in jobs:
        job.chunks = summaries.get(job.generation_id) if job.kind == Job.Kind.BUILD else None
    return jobs


@dataclass
class BuildChunkSummary:
    """Where a build's chunks stand, summed over every process working on it."""

    chunks: int = 0
    done: int = 0
    running: int = 0
    pending: int = 0
    failed: int = 0
    total: int = 0  # products in the chunks when they were planned
    products: int = 0  # products embedded so far
    photos: int = 0
    workers: list[str] = field(default_factory=list)  # processes running a chunk now
    worked: int = 0  # processes that took a chunk of it, so far
    error: str = ""  # a failed chunk's error

    @property
    def finished(self) -> bool:
        return self.pending == self.running == 0

    def detail(self) -> str:
        """One line for the operator: ``chunks 3/10 done, 2 running on 2 workers``."""
        text = f"chunks {self.done}/{self.chunks} done"
        if self.running:
            text += f", {self.running} running on {len(self.workers)} worker{'s' if len(self.workers) != 1 else ''}"
        if self.failed:
            text += f", {self.failed} failed"
        return text

    def as_dict(self) -> dict:
        return {**asdict(self), "detail": self.detail()}


def build_chunks_summaries(generation_ids: list[int]) -> dict[int, BuildChunkSummary]:
    """The chunk summary of each of these generations that has chunks. 1 query (2 when a chunk failed)."""
    state = BuildChunk.State
    rows = (
        BuildChunk.objects.filter(generation_id__in=generation_ids)
        .values("generation_id")
        .annotate(
            chunks=Count("id"),
            done=Count("id", filter=Q(state=state.DONE)),
            running=Count("id", filter=Q(state=state.RUNNING)),
            pending=Count("id", filter=Q(state=state.PENDING)),
            failed=Count("id", filter=Q(state=state.FAILED)),
            total=Sum("total"),
            products=Sum("products"),
            photos=Sum("photos"),
            workers=ArrayAgg("worker", filter=Q(state=state.RUNNING), distinct=True, default=Value([])),
            worked=Count("worker", filter=~Q(worker=""), distinct=True),
        )
        .order_by()
    )
    summaries = {row.pop("generation_id"): BuildChunkSummary(**row) for row in rows}
    failed = [generation_id for generation_id, summary in summaries.items() if summary.failed]
    for generation_id, error in (
        BuildChunk.objects.filter(generation_id__in=failed, state=state.FAILED)
        .order_by("generation_id", "first_id")
        .distinct("generation_id")
        .values_list("generation_id", "error")
    ):
        summaries[generation_id].error = error
    return summaries


def build_chunks_summary(generation_id: int) -> BuildChunkSummary:
    return build_chunks_summaries([generation_id]).get(generation_id, BuildChunkSummary())


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
    with read_connection().cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM embeddings_imageembedding WHERE generation_id = %s)", [generation.pk]
        )
        return cursor.fetchone()[0]
