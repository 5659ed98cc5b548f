"""Per-generation vector indexes, and what they and the vectors cost.

Vector columns are untyped (dimensions differ between generations), so each generation gets partial HNSW indexes
on expressions that cast to its own dimensions, as pgvector recommends for mixed dimensions. The casts go to
``halfvec``: half the memory of ``vector``; 16-bit floats keep cosine ranking of normalised vectors intact to
about 1e-3, far below the gaps between neighbours (HNSW recall is measured in bench/). Queries
must use the very same expression and ``generation_id`` condition to use them; ``vector_expression`` gives both.

Which columns get an index is the generation's ``photo_index`` layout (``EMBEDDING_PHOTO_INDEX`` when it was
created; ``auto``, the default, gives ``photo`` up to ``EMBEDDING_PHOTO_INDEX_AUTO_MAX_PHOTOS`` photos and
``binary`` beyond). HNSW graphs must stay in memory to be fast, and a 1,408-dimension photo vector costs 4.1 KB of
index per photo, so:

- ``product``: only the columns some query reads through an index, all per product: fused, aligned
  image and text vector (text and photo search, similar items) and the pooled image vector (the mean of the
  product's photos, which similar items read). Photo search reads the nearest products by the pooled vector and
  re-scores their photos exactly from the table (``search.candidates``). 7.5 KB of index a product (1,408-d
  photos), whatever its number of photos: 7.5 GB at 1,000,000 products. It costs photo search time: the
  statement's p50 at 50,000 products is 27-33 ms, against 9-12 ms through an index over every photo.
- ``photo``: the same and an index over every photo's image vector, which photo search reads: 4.1 KB more a photo,
  19.8 GB at 1,000,000 products with three photos each. Generations built before this layout existed are
  ``photo`` generations with two more indexes that no query reads (aligned text; the photos' joint vectors): they
  keep them until they are collected.
- ``binary``: the product indexes and an index over every photo's binary code instead of its vector: 3 bits a
  dimension (``photo_code_v2``, migration 0011: the signs of three fixed mixings of the dimensions; until then
  ``photo_code_v1``, the first mixing alone, migration 0008), compared by Hamming distance (``bit_hamming_ops``).
  Photo search reads the ``SEARCH_PHOTO_RESCORE_PHOTOS`` nearest photos by code through it and re-scores them
  exactly from the vectors stored in the table (``search.candidates``; half precision since migration 0011, two
  photo rows to a page). Plain signs of the vector (``binary_quantize`` alone) rank EfficientNet photos poorly: a
  few dimensions carry most of their variance and every dimension gets one bit; the code's mixing (three rounds of
  alternating sums of 8 cyclic rotations) spreads each bit over 512 dimensions, like a random rotation, which also
  cancels the features' mean.
  The index is IVFFlat, not HNSW: the codes are split into ``code_lists`` lists around k-means centres when the
  index is built, and a search compares the query's code with every code of the ``IVFFLAT_PROBES`` nearest lists
  (a Hamming distance is a few machine words). An HNSW graph over the codes cost 686 bytes a photo and, at 250,000
  products, 230-260 ms to walk to the 1,000 nearest codes (80,000 buffer hits); the lists cost 204 bytes a photo
  (0.6 GB at 1,000,000 products with three photos each) and read a few pages each. At 50,000 products (64,408
  photos), one after the other on the same machine, 300 photos re-scored: HNSW recall@10 0.989 / 0.985 (catalog
  photos / luma-dev's withheld views), statement p50 50-52 ms; IVFFlat with 64 lists, 20 probed, 0.989 / 0.987 at
  p50 31 ms; with 1,000 re-scored 129-152 ms against 86-97 ms (250 lists). Most of what is left is the re-scoring:
  each re-scored photo's full vector is read from the table, which grows with ``SEARCH_PHOTO_RESCORE_PHOTOS`` (kept in
  the row since migration 0010, a page a photo instead of its TOAST lookup and chunks: bench/row_storage.py).
  Earlier, with the HNSW graph (2 cores, load 4-6; recall@10 / statement p50 / p95):

  | photos re-scored | 50,000 products (64,408 photos) | 250,000 products (321,208 photos) |
  | --- | --- | --- |
  | 300 | 0.989 / 0.985, 19-27 / 24-38 ms | 0.880 / 0.826, 26 / 35-38 ms |
  | 500 | 0.996 / 0.994-0.995, 32-37 / 40-54 ms | 0.941 / 0.927, 37-39 / 42-53 ms |
  | 1000 | 1.000 / 0.999-1.000, 63-69 / 77-87 ms | 0.983 / 0.985, 72-75 / 83-87 ms |

  against the ``product`` layout at rescore 300: 0.986 / 0.954, 11-21 / 16-54 ms at 50,000, and 0.894 / 0.727 at
  250,000 (rescore 1000: 0.986 / 0.932). The synthetic catalog crowds ever more near-copies of luma-dev's 116
  products around each query as it grows, and the photos re-scored must grow with it (about with the catalog:
  300 at 50,000, 1,000 at 250,000). Ranked by exact Hamming distance over all 64,408 photos (no index; catalog
  photos / withheld views, 1,000 re-scored): plain signs 0.66 / 0.48, signs of the mean-centred vector 0.99 / 0.81,
  this code 1.000 / 1.000. At 1,000,000 products (1,284,584 photos; ``bench/photo_codes.py``, exact Hamming
  ranking, 1,000 re-scored) one mixing (1,408 bits) gives 0.894 / 0.845, two 0.954 / 0.941 and three (4,224 bits,
  ``photo_code_v2``) 0.976 / 0.972: a longer code tells the crowd apart, so fewer photos need re-scoring (one
  mixing needs about 3,000 for 0.97 there, each a row read).

``storage_measure`` reports every layout's bytes per product: ``bench/vector_storage.py --compare-layouts`` at
50,000 products (1.29 photos each) measured 7,518 bytes a product, and 4,096 more a photo (README "Running at
scale").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.db import connection

from .models import EmbeddingGeneration

# HNSW build parameters. pgvector's defaults (m=16, ef_construction=64) gave recall@10 of only 0.84 on the
# 384-d text vectors of the 50k benchmark catalog (products in tight clusters of near-twins); m=32,
# ef_construction=200 gives 0.99 for about twice the build time and graph memory (bench/search_latency.py).
HNSW_OPTIONS = "WITH (m = 32, ef_construction = 200)"


@dataclass(frozen=True)
class VectorColumn:
    table: str
    column: str
    dim_field: str  # which EmbeddingGeneration dimension applies
    # A binary code (``PHOTO_CODE_FUNCTION`` of the row's vector, stored since migration 0009), compared by Hamming
    # distance; its bits are ``PHOTO_CODE_BITS`` a dimension.
    code: bool = False


COLUMNS = {
    "fused": VectorColumn("embeddings_productembedding", "fused", "joint_dim"),
    "aligned_image": VectorColumn("embeddings_productembedding", "aligned_image", "joint_dim"),
    "aligned_text": VectorColumn("embeddings_productembedding", "aligned_text", "joint_dim"),
    "text_vector": VectorColumn("embeddings_productembedding", "text_vector", "text_dim"),
    "image_vector": VectorColumn("embeddings_productembedding", "image_vector", "image_dim"),
    "photo": VectorColumn("embeddings_imageembedding", "vector", "image_dim"),
    "photo_aligned": VectorColumn("embeddings_imageembedding", "aligned", "joint_dim"),
    "photo_code": VectorColumn("embeddings_imageembedding", "code", "image_dim", code=True),
}

# The SQL function (migration 0011; ``photo_code_v1`` of migration 0008 was its first mixing alone) that makes a
# vector's binary code: the signs of three fixed mixings of its dimensions, one after the other (three bits a
# dimension: 4,224 bits, 528 bytes, for a 1,408-d vector).
PHOTO_CODE_FUNCTION = "photo_code_v2"
# Its mixings, as in the function: each has three rounds, and each round sums the vector's cyclic rotations by these
# shifts (modulo its dimensions), alternately added and subtracted. The first is photo_code_v1's; the others were
# drawn once like it (bench/photo_codes.py, SHIFT_SEED).
PHOTO_CODE_MIXINGS = (
    ((0, 300, 395, 516, 560, 1008, 1221, 1252), (0, 173, 509, 668, 810, 903, 1037, 1103),
     (0, 36, 677, 868, 974, 1046, 1246, 1332)),
    ((0, 384, 484, 497, 771, 809, 892, 1228), (0, 201, 578, 588, 715, 1193, 1311, 1371),
     (0, 577, 649, 675, 855, 874, 930, 1171)),
    ((0, 212, 236, 238, 361, 452, 783, 802), (0, 104, 147, 420, 839, 1088, 1160, 1224),
     (0, 88, 406, 596, 725, 740, 1067, 1360)),
)  # fmt: skip
PHOTO_CODE_BITS = len(PHOTO_CODE_MIXINGS)  # bits a dimension

# The columns each layout indexes (``EmbeddingGeneration.PhotoIndex``).
LAYOUTS = {
    EmbeddingGeneration.PhotoIndex.PRODUCT: ("fused", "aligned_image", "text_vector", "image_vector"),
    EmbeddingGeneration.PhotoIndex.PHOTO: ("fused", "aligned_image", "text_vector", "image_vector", "photo"),
    EmbeddingGeneration.PhotoIndex.BINARY: ("fused", "aligned_image", "text_vector", "image_vector", "photo_code"),
}


def vector_expression(generation: EmbeddingGeneration, name: str) -> tuple[str, int]:
    """The SQL expression (matching the index) of column ``name`` for ``generation``, and its dimensions. A
    ``code`` column's is its binary code (``bit``, compared by Hamming distance ``<~>``)."""
    column = COLUMNS[name]
    dim = getattr(generation, column.dim_field)
    if column.code:
        return f"({column.column}::bit({dim * PHOTO_CODE_BITS}))", dim * PHOTO_CODE_BITS
    return f"({column.column}::halfvec({dim}))", dim


def photo_code_query(generation: EmbeddingGeneration) -> str:
    """The binary code of a query vector (one ``%s`` parameter: its ``vector`` literal), to compare by ``<~>``
    with ``vector_expression(generation, "photo_code")``."""
    return f"({PHOTO_CODE_FUNCTION}(%s::vector)::bit({int(generation.image_dim) * PHOTO_CODE_BITS}))"


def photo_code(vectors: np.ndarray) -> np.ndarray:
    """The binary codes ``PHOTO_CODE_FUNCTION`` gives the rows of ``vectors`` (booleans, a row each), in numpy."""
    vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
    codes = []
    for mixing in PHOTO_CODE_MIXINGS:
        mixed = vectors
        for shifts in mixing:
            total = np.zeros_like(mixed)
            for k, shift in enumerate(shifts):
                total += (1 if k % 2 == 0 else -1) * np.roll(mixed, -(shift % mixed.shape[1]), axis=1)
            mixed = total
        codes.append(mixed > 0)
    return np.concatenate(codes, axis=1)


def index_name(generation_id: int, name: str) -> str:
    return f"emb_g{generation_id}_{name}"


def indexed_columns(generation: EmbeddingGeneration) -> tuple[str, ...]:
    """The columns ``generation`` keeps an HNSW index on (its layout's)."""
    return LAYOUTS[EmbeddingGeneration.PhotoIndex(generation.photo_index)]


def photo_index_per_photo(generation: EmbeddingGeneration) -> bool:
    """Whether photo search reads ``generation``'s photos through an index over every photo's vector (else: the
    nearest photos by binary code, or the nearest products by their pooled vector, re-scored by their photos)."""
    return generation.photo_index == EmbeddingGeneration.PhotoIndex.PHOTO


def indexes_create(generation: EmbeddingGeneration, only: tuple[str, ...] | None = None) -> list[str]:
    """Create the generation's indexes (those of its layout among ``only``, when given; concurrently when not inside
    a transaction); returns their names."""
    concurrently = "" if connection.in_atomic_block else "CONCURRENTLY"
    names = []
    with connection.cursor() as cursor:
        # A graph that fits in maintenance_work_mem builds several times faster (session setting only; a session
        # that set more keeps it).
        memory = settings.EMBEDDING_INDEX_BUILD_MEMORY
        cursor.execute("SELECT pg_size_bytes(current_setting('maintenance_work_mem')) < pg_size_bytes(%s)", [memory])
        if cursor.fetchone()[0]:
            cursor.execute("SELECT set_config('maintenance_work_mem', %s, false)", [memory])
        if connection.in_atomic_block:
            # Inside a transaction (tests, or a caller's atomic block) deferred FK checks must fire first.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for name in [name for name in indexed_columns(generation) if only is None or name in only]:
            column = COLUMNS[name]
            expression, _dim = vector_expression(generation, name)
            index = index_name(generation.pk, name)
            if column.code:
                # After the rows: IVFFlat places its lists' centres by k-means over the codes it is built on.
                cursor.execute(f"SELECT count(*) FROM {column.table} WHERE generation_id = %s", [generation.pk])
                method = f"ivfflat ({expression} bit_hamming_ops) WITH (lists = {code_lists(cursor.fetchone()[0])})"
            else:
                method = f"hnsw ({expression} halfvec_cosine_ops) {HNSW_OPTIONS}"
            cursor.execute(
                f"CREATE INDEX {concurrently} IF NOT EXISTS {index} ON {column.table} USING {method} "
                f"WHERE generation_id = {int(generation.pk)}"
            )
            names.append(index)
    return names


def code_lists(rows: int) -> int:
    """IVFFlat lists for an index over ``rows`` codes, as pgvector advises: a list per 1,000 rows up to 1,000,000
    rows, the square root beyond."""
    return max(1, rows // 1000 if rows <= 1_000_000 else math.isqrt(rows))


def indexes_drop(generation_id: int, names: tuple[str, ...] | None = None) -> None:
    """Drop the generation's indexes (of every layout, or only those of ``names``)."""
    concurrently = "" if connection.in_atomic_block else "CONCURRENTLY"
    with connection.cursor() as cursor:
        for name in COLUMNS if names is None else names:
            cursor.execute(f"DROP INDEX {concurrently} IF EXISTS {index_name(generation_id, name)}")


def photo_index_switch(generation: EmbeddingGeneration, layout: str) -> list[str]:
    """Give ``generation`` the photo index ``layout`` without rebuilding it: the new layout's indexes are built
    first, the field switched (search follows it at once), then every index of the generation that the layout does
    not name is dropped. Returns the names of the dropped indexes."""
    layout = EmbeddingGeneration.PhotoIndex(layout)
    generation.photo_index = layout
    indexes_create(generation)
    generation.save(update_fields=["photo_index"])
    others = [name for name in COLUMNS if name not in LAYOUTS[layout]]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE indexname = ANY(%s)",
            [[index_name(generation.pk, name) for name in others]],
        )
        dropped = sorted(row[0] for row in cursor.fetchall())
    indexes_drop(generation.pk, tuple(others))
    return dropped


# --- what it costs -----------------------------------------------------------------------------------------------


@dataclass
class GenerationStorage:
    """Bytes of one generation's vectors and indexes (``storage_measure``)."""

    generation_id: int
    photo_index: str
    products: int
    photos: int
    indexes: dict[str, int] = field(default_factory=dict)  # column name -> bytes of its HNSW index
    # table -> bytes of the generation's rows (heap + TOAST, the table's size shared out by row count)
    tables: dict[str, int] = field(default_factory=dict)

    @property
    def index_bytes(self) -> int:
        return sum(self.indexes.values())

    @property
    def table_bytes(self) -> int:
        return sum(self.tables.values())

    def per_product(self, size: int) -> float:
        return size / self.products if self.products else 0.0


def storage_measure(generation: EmbeddingGeneration) -> GenerationStorage:
    """The generation's index sizes (``pg_relation_size`` of each of its HNSW indexes) and its share of the vector
    tables (``pg_table_size``: heap and TOAST, without indexes, in proportion to its rows)."""
    storage = GenerationStorage(generation_id=generation.pk, photo_index=generation.photo_index, products=0, photos=0)
    with connection.cursor() as cursor:
        for name in COLUMNS:
            cursor.execute("SELECT pg_relation_size(to_regclass(%s))", [index_name(generation.pk, name)])
            size = cursor.fetchone()[0]
            if size is not None:
                storage.indexes[name] = int(size)
        for table, attribute in (("embeddings_productembedding", "products"), ("embeddings_imageembedding", "photos")):
            cursor.execute(
                f"SELECT count(*) FILTER (WHERE generation_id = %s), count(*), pg_table_size(%s) FROM {table}",
                [generation.pk, table],
            )
            mine, rows, size = cursor.fetchone()
            setattr(storage, attribute, int(mine))
            storage.tables[table] = round(size * mine / rows) if rows else 0
    return storage
