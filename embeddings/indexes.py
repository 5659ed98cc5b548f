"""Per-generation vector indexes.

Vector columns are untyped (dimensions differ between generations), so each generation gets partial HNSW indexes
on expressions that cast to its own dimensions, as pgvector recommends for mixed dimensions. The casts go to
``halfvec``: half the memory of ``vector``; 16-bit floats keep cosine ranking of normalised vectors intact to
about 1e-3, far below the gaps between neighbours (HNSW recall is measured in bench/). Queries
must use the very same expression and ``generation_id`` condition to use them; ``vector_expression`` gives both.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from .models import EmbeddingGeneration

# HNSW build parameters. pgvector's defaults (m=16, ef_construction=64) gave recall@10 of only 0.84 on the
# 384-d text vectors of the 50k benchmark catalog (products in tight clusters of near-twins); m=32,
# ef_construction=200 gives 0.99 for about twice the build time and graph memory (bench/search_latency.py).
HNSW_OPTIONS = "WITH (m = 32, ef_construction = 200)"
MAINTENANCE_WORK_MEM = "512MB"


@dataclass(frozen=True)
class VectorColumn:
    table: str
    column: str
    dim_field: str  # which EmbeddingGeneration dimension applies


COLUMNS = {
    "fused": VectorColumn("embeddings_productembedding", "fused", "joint_dim"),
    "aligned_image": VectorColumn("embeddings_productembedding", "aligned_image", "joint_dim"),
    "aligned_text": VectorColumn("embeddings_productembedding", "aligned_text", "joint_dim"),
    "text_vector": VectorColumn("embeddings_productembedding", "text_vector", "text_dim"),
    "image_vector": VectorColumn("embeddings_productembedding", "image_vector", "image_dim"),
    "photo": VectorColumn("embeddings_imageembedding", "vector", "image_dim"),
    "photo_aligned": VectorColumn("embeddings_imageembedding", "aligned", "joint_dim"),
}


def vector_expression(generation: EmbeddingGeneration, name: str) -> tuple[str, int]:
    """The SQL expression (matching the index) of column ``name`` for ``generation``, and its dimensions."""
    column = COLUMNS[name]
    dim = getattr(generation, column.dim_field)
    return f"({column.column}::halfvec({dim}))", dim


def index_name(generation_id: int, name: str) -> str:
    return f"emb_g{generation_id}_{name}"


def indexes_create(generation: EmbeddingGeneration) -> list[str]:
    """Create the generation's indexes (concurrently when not inside a transaction); returns their names."""
    concurrently = "" if connection.in_atomic_block else "CONCURRENTLY"
    names = []
    with connection.cursor() as cursor:
        # A graph that fits in maintenance_work_mem builds several times faster (session setting only).
        cursor.execute("SET maintenance_work_mem = %s", [MAINTENANCE_WORK_MEM])
        if connection.in_atomic_block:
            # Inside a transaction (tests, or a caller's atomic block) deferred FK checks must fire first.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for name, column in COLUMNS.items():
            expression, _dim = vector_expression(generation, name)
            index = index_name(generation.pk, name)
            cursor.execute(
                f"CREATE INDEX {concurrently} IF NOT EXISTS {index} ON {column.table} "
                f"USING hnsw ({expression} halfvec_cosine_ops) {HNSW_OPTIONS} "
                f"WHERE generation_id = {int(generation.pk)}"
            )
            names.append(index)
    return names


def indexes_drop(generation_id: int) -> None:
    concurrently = "" if connection.in_atomic_block else "CONCURRENTLY"
    with connection.cursor() as cursor:
        for name in COLUMNS:
            cursor.execute(f"DROP INDEX {concurrently} IF EXISTS {index_name(generation_id, name)}")
