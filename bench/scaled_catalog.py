"""A large synthetic catalog grown from a real one, with vectors, for benchmarks at scale.

    python bench/scaled_catalog.py --products 50000 [--seed 0] [--source ../shared/datasets/luma-dev]
    python bench/scaled_catalog.py --products 50000 --drop

Imports the real source catalog and builds (trains, embeds, activates) a real generation with the configured
encoders, then adds synthetic products until there are ``products`` in all: each one a varied copy of a random
source product (colour, size, material, price, stock, brand, 0-3 reviews, 1-2 of the source's stored photos) whose
vectors are a blend of the source's and a random partner product's vectors (partner weight up to ``BLEND_MAX``) plus
Gaussian noise (cosine about 0.9 to the blend), so no encoder runs for them.
Exactly 1% of the products carry ``"collection": "Rare"`` (a 1%-selective filter). Everything is deterministic for a
seed. Rows go in with COPY (binary for the vector tables), then full-text documents, the generation's HNSW indexes
and planner statistics are rebuilt.

Run as a script, it builds into the scratch database ``test_scaled_<N>`` of the configured server and keeps it;
benchmarks reuse it with ``scaled_database(N)`` (built when missing), or call ``build_scaled_catalog`` inside their
own migrated scratch database.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from embeddings.models import EmbeddingGeneration

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = ROOT.parent / "shared" / "datasets" / "luma-dev"

# Made-up brands for the synthetic products (the source products keep theirs).
BRANDS = [
    "Aldervane", "Brightfell", "Cobaltine", "Dunmoor", "Emberline", "Fjordly", "Granitek", "Halcyra", "Ironbark",
    "Juniperly", "Kestrelle", "Lumenvale", "Marrowind", "Northquay", "Oakhaven", "Pinecrest Gear", "Quillsby",
    "Ridgeward", "Solstrand", "Tundrelle",
]  # fmt: skip
ADJECTIVES = ["Classic", "Lightweight", "Essential", "Everyday", "Performance", "Premium", "Relaxed", "Trail"]
RARE_ATTRIBUTE = ("collection", "Rare")
RARE_FRACTION = 0.01
NOISE_COSINE = 0.9  # expected cosine between a synthetic vector and its (blended) base vector
# A synthetic product's vectors start between its source's and a random partner's (weight up to this), so the
# catalog fills the space between real products as a real one does. Without it every source grows an isolated
# ball of ~500 near-copies; an HNSW graph built over such balls loses the edges between them and a search that
# enters the wrong ball cannot leave it (photo recall@10 0.91 whatever ef_search; see bench/search_latency.py).
BLEND_MAX = 0.5
IN_STOCK_P = 0.9
PRICE_FACTOR = (0.7, 1.5)
CHUNK = 2500  # synthetic products per COPY transaction
# One random stream per vector column ("image_vector" is no longer drawn from: a product's image vector is the mean of
# its photos'; it keeps its place so that the other streams, and the catalogs built before, stay as they were).
_VECTOR_STREAMS = ["text_vector", "image_vector", "aligned_text", "aligned_image", "photo", "photo_aligned"]


def scaled_database_name(products: int) -> str:
    return f"test_scaled_{products}"


# --- the source catalog, as the synthetic products need it -------------------------------------------------------


@dataclass
class SourcePhoto:
    id: int
    source: str
    file: str
    content_hash: str
    width: int | None
    height: int | None
    vector: np.ndarray
    aligned: np.ndarray


@dataclass
class SourceProduct:
    id: int
    sku: str
    name: str
    description: str
    description_html: str
    price: Decimal | None
    currency: str
    attributes: dict
    primary_category_id: int | None
    categories: list[tuple[int, int]]  # (category id, position)
    photos: list[SourcePhoto]
    reviews: list[tuple[str, str, str]]  # (title, body, author)
    text_vector: np.ndarray
    image_vector: np.ndarray | None
    aligned_text: np.ndarray
    aligned_image: np.ndarray | None


@dataclass
class Vocabulary:
    colours: list[str]
    materials: list[str]
    patterns: list[str]
    reviews: list[tuple[str, str, str]]
    authors: list[str]


def _values(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [str(v).strip() for v in values if v is not None and str(v).strip()]


def _source_load(generation: EmbeddingGeneration) -> tuple[list[SourceProduct], Vocabulary]:
    from catalog.models import Product, ProductCategory, ProductImage, Review
    from embeddings.models import ImageEmbedding, ProductEmbedding

    photo_vectors = {
        e.image_id: e
        for e in ImageEmbedding.objects.filter(generation=generation).only("image_id", "vector", "aligned")
    }
    photos: dict[int, list[SourcePhoto]] = {}
    for image in ProductImage.objects.order_by("product_id", "position", "id"):
        vectors = photo_vectors.get(image.pk)
        if not image.usable or vectors is None:
            continue
        photos.setdefault(image.product_id, []).append(
            SourcePhoto(
                id=image.pk,
                source=image.source,
                file=image.file.name,
                content_hash=image.content_hash,
                width=image.width,
                height=image.height,
                vector=_unit(vectors.vector),
                aligned=_unit(vectors.aligned),
            )
        )
    categories: dict[int, list[tuple[int, int]]] = {}
    for product_id, category_id, position in ProductCategory.objects.order_by(
        "product_id", "position", "id"
    ).values_list("product_id", "category_id", "position"):
        categories.setdefault(product_id, []).append((category_id, position))
    reviews: dict[int, list[tuple[str, str, str]]] = {}
    for product_id, title, body, author in Review.objects.order_by("product_id", "fingerprint").values_list(
        "product_id", "title", "body", "author"
    ):
        reviews.setdefault(product_id, []).append((title, body, author))
    embeddings = {e.product_id: e for e in ProductEmbedding.objects.filter(generation=generation)}

    products = []
    for product in Product.objects.order_by("sku"):
        embedding = embeddings.get(product.pk)
        if embedding is None:
            continue  # not embedded (an error): nothing to copy vectors from
        products.append(
            SourceProduct(
                id=product.pk,
                sku=product.sku,
                name=product.name,
                description=product.description,
                description_html=product.description_html,
                price=product.price,
                currency=product.currency,
                attributes=dict(product.attributes or {}),
                primary_category_id=product.primary_category_id,
                categories=categories.get(product.pk, []),
                photos=photos.get(product.pk, []),
                reviews=reviews.get(product.pk, []),
                text_vector=_unit(embedding.text_vector),
                image_vector=None if embedding.image_vector is None else _unit(embedding.image_vector),
                aligned_text=_unit(embedding.aligned_text),
                aligned_image=None if embedding.aligned_image is None else _unit(embedding.aligned_image),
            )
        )
    if not products:
        raise RuntimeError("the source catalog has no embedded products")

    colours, materials, patterns = set(), set(), set()
    for product in products:
        colours.update(_values(product.attributes.get("color")))
        for value in _values(product.attributes.get("material")):
            materials.update(part.strip() for part in value.split("|") if part.strip())
        for value in _values(product.attributes.get("pattern")):
            patterns.update(part.strip() for part in value.split("|") if part.strip())
    all_reviews = [review for product in products for review in product.reviews]
    vocabulary = Vocabulary(
        colours=sorted(colours) or ["Black", "Blue", "Red"],
        materials=sorted(materials) or ["Cotton", "Polyester"],
        patterns=sorted(patterns | set(ADJECTIVES)),
        reviews=all_reviews or [("Great", "Does what it says.", "")],
        authors=sorted({author for _t, _b, author in all_reviews if author}) or ["Anonymous"],
    )
    return products, vocabulary


def _unit(vector: Any) -> np.ndarray:
    array = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(array))
    return array / norm if norm > 0 else array


# --- synthetic rows ----------------------------------------------------------------------------------------------


@dataclass
class Synthetic:
    """One synthetic product before it has ids: what the COPY rows are made of."""

    sku: str
    source: SourceProduct
    name: str
    price: Decimal | None
    in_stock: bool
    brand: str
    attributes: dict
    photos: list[SourcePhoto]
    reviews: list[tuple[int, str, str, str]]  # (rating, title, body, author)
    # Vectors lie between the source's and a partner product's: (1 - blend) * source + blend * partner, then noise.
    partner: SourceProduct | None = None
    blend: float = 0.0
    partner_photos: list[SourcePhoto | None] = field(default_factory=list)  # one per photo


def _synthetics_plan(
    sources: list[SourceProduct], vocabulary: Vocabulary, *, count: int, rare: int, rng: np.random.Generator
) -> list[Synthetic]:
    """Every synthetic product's fields, drawn in product order from ``rng`` (so the plan depends only on the seed)."""
    source_index = rng.integers(0, len(sources), size=count)
    name_kind = rng.choice(3, size=count, p=[0.5, 0.25, 0.25])
    colour_index = rng.integers(0, len(vocabulary.colours), size=count)
    material_index = rng.integers(0, len(vocabulary.materials), size=count)
    adjective_index = rng.integers(0, len(vocabulary.patterns), size=count)
    price_factor = rng.uniform(*PRICE_FACTOR, size=count)
    in_stock = rng.random(size=count) < IN_STOCK_P
    brand_index = rng.integers(0, len(BRANDS), size=count)
    photo_count = rng.integers(1, 3, size=count)
    review_count = rng.integers(0, 4, size=count)
    rare_set = set(rng.choice(count, size=rare, replace=False).tolist()) if rare else set()
    partner_index = rng.integers(0, len(sources), size=count)
    blend = rng.uniform(0.0, BLEND_MAX, size=count)
    partner_photo = rng.integers(0, 1 << 30, size=(count, 2))

    plan = []
    for n in range(count):
        source = sources[source_index[n]]
        colour = vocabulary.colours[colour_index[n]]
        material = vocabulary.materials[material_index[n]]
        if name_kind[n] == 0:
            name = f"{colour} {source.name}"
        elif name_kind[n] == 1:
            name = f"{material} {source.name}"
        else:
            name = f"{colour} {vocabulary.patterns[adjective_index[n]]} {source.name}"
        attributes = dict(source.attributes)
        attributes["color"] = colour
        attributes["material"] = material
        sizes = _values(source.attributes.get("size"))
        if sizes:
            attributes["size"] = sizes[int(rng.integers(0, len(sizes)))]
        if n in rare_set:
            attributes[RARE_ATTRIBUTE[0]] = RARE_ATTRIBUTE[1]
        price = None
        if source.price is not None:
            price = (source.price * Decimal(str(float(price_factor[n])))).quantize(Decimal("0.01"), ROUND_HALF_UP)
        photos = []
        if source.photos:
            k = min(int(photo_count[n]), len(source.photos))
            photos = [source.photos[i] for i in sorted(rng.choice(len(source.photos), size=k, replace=False))]
        partner = sources[partner_index[n]] if partner_index[n] != source_index[n] else None
        partner_photos = [
            partner.photos[int(partner_photo[n, j]) % len(partner.photos)] if partner and partner.photos else None
            for j in range(len(photos))
        ]
        pool = source.reviews or vocabulary.reviews
        reviews = []
        for _ in range(int(review_count[n])):
            title, body, author = pool[int(rng.integers(0, len(pool)))]
            author = author or vocabulary.authors[int(rng.integers(0, len(vocabulary.authors)))]
            reviews.append((int(rng.integers(1, 6)), title, body, author))
        plan.append(
            Synthetic(
                sku=f"S{n:06d}",
                source=source,
                name=name[:255],
                price=price,
                in_stock=bool(in_stock[n]),
                brand=BRANDS[brand_index[n]],
                attributes=attributes,
                photos=photos,
                reviews=reviews,
                partner=partner,
                blend=float(blend[n]) if partner else 0.0,
                partner_photos=partner_photos,
            )
        )
    return plan


def _blend(source: np.ndarray | None, partner: np.ndarray | None, weight: float) -> np.ndarray | None:
    """The unit vector ``(1 - weight) * source + weight * partner`` (the source alone when either is missing)."""
    if source is None or partner is None or weight == 0.0:
        return source
    mixed = (1.0 - weight) * source + weight * partner
    return (mixed / np.linalg.norm(mixed)).astype(np.float32)


def _product_base(s: Synthetic, stream: str) -> np.ndarray | None:
    return _blend(getattr(s.source, stream), getattr(s.partner, stream) if s.partner else None, s.blend)


def _perturb(base: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Unit rows near the unit rows of ``base``: isotropic noise of total norm sqrt(1/c^2 - 1), so the expected
    cosine to the base is ``NOISE_COSINE`` whatever the dimension."""
    dim = base.shape[1]
    sigma = math.sqrt(1.0 / NOISE_COSINE**2 - 1.0) / math.sqrt(dim)
    out = base + rng.standard_normal(base.shape, dtype=np.float32) * np.float32(sigma)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return (out / np.where(norms > 0, norms, 1)).astype(np.float32)


def _stack(vectors: list[np.ndarray | None], dim: int) -> np.ndarray:
    return np.stack([np.zeros(dim, np.float32) if v is None else v for v in vectors]) if vectors else np.zeros((0, dim))


# --- COPY --------------------------------------------------------------------------------------------------------


def _column_oids(cursor, table: str, columns: list[str]) -> list[int]:
    cursor.execute(
        "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
        [table],
    )
    oids = dict(cursor.fetchall())
    return [int(oids[column]) for column in columns]


def _model_defaults(model, given: set[str], now: datetime) -> dict[str, Any]:
    """Database values for the model's columns that the rows do not give: auto timestamps are ``now``, others their
    field default. Columns that others add to the models get a value without this module knowing them."""
    from django.db import connection
    from django.db.models import NOT_PROVIDED

    defaults = {}
    for model_field in model._meta.concrete_fields:
        name = model_field.attname
        if (
            name in given
            or model_field.primary_key
            or getattr(model_field, "db_default", NOT_PROVIDED) is not NOT_PROVIDED
        ):
            continue
        if getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False):
            defaults[name] = now
        else:
            defaults[name] = model_field.get_db_prep_save(model_field.get_default(), connection)
    return defaults


def _copy(cursor, model, rows: list[dict[str, Any]], now: datetime, *, binary: bool = False) -> None:
    """COPY ``rows`` (column -> database value; the same columns in every row) into ``model``'s table."""
    if not rows:
        return
    given = list(rows[0])
    defaults = _model_defaults(model, set(given), now)
    columns = given + list(defaults)
    tail = tuple(defaults.values())
    table = model._meta.db_table
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    if binary:
        types = _column_oids(cursor, table, columns)
        with cursor.copy(statement + " (FORMAT BINARY)") as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row((*row.values(), *tail))
    else:
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row((*row.values(), *tail))


def _reserve_ids(cursor, table: str, count: int) -> list[int]:
    if not count:
        return []
    cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count])
    return sorted(row[0] for row in cursor.fetchall())


def _rating_summary(ratings: list[int]) -> tuple[Decimal | None, int]:
    if not ratings:
        return None, 0
    return (Decimal(sum(ratings)) / len(ratings)).quantize(Decimal("0.01"), ROUND_HALF_UP), len(ratings)


def _load_chunk(
    cursor, plan: list[Synthetic], generation: EmbeddingGeneration, rng: dict[str, np.random.Generator], now: datetime
) -> tuple[int, int, int]:
    from pgvector import HalfVector

    from catalog.models import Product, ProductCategory, ProductImage, Review
    from embeddings.models import ImageEmbedding, ProductEmbedding

    product_fields = {f.attname for f in Product._meta.concrete_fields}
    product_ids = _reserve_ids(cursor, Product._meta.db_table, len(plan))
    image_ids = iter(_reserve_ids(cursor, ProductImage._meta.db_table, sum(len(s.photos) for s in plan)))

    products, links, images, reviews = [], [], [], []
    photo_rows: list[tuple[int, int, SourcePhoto]] = []  # (image id, product id, source photo)
    photo_blends: list[tuple[SourcePhoto, SourcePhoto | None, float]] = []  # (source photo, partner photo, weight)
    for product_id, s in zip(product_ids, plan, strict=True):
        source = s.source
        row = {
            "id": product_id, "sku": s.sku, "name": s.name, "description": source.description,
            "description_html": source.description_html, "price": s.price, "currency": source.currency,
            "in_stock": s.in_stock, "brand": s.brand, "attributes": json.dumps(s.attributes, ensure_ascii=False),
            "primary_category_id": source.primary_category_id, "source_hash": "", "content_version": 1,
            "embeddings_stale": False, "embedding_error": "",
        }  # fmt: skip
        if {"rating_average", "rating_count"} <= product_fields:  # the review summary, where the model keeps one
            row["rating_average"], row["rating_count"] = _rating_summary([r[0] for r in s.reviews])
        products.append(row)
        links.extend(
            {"product_id": product_id, "category_id": category_id, "position": position}
            for category_id, position in source.categories
        )
        for position, photo in enumerate(s.photos):
            image_id = next(image_ids)
            images.append({
                "id": image_id, "product_id": product_id, "position": position, "source": photo.source,
                "file": photo.file, "content_hash": photo.content_hash, "width": photo.width, "height": photo.height,
                "error": "",
            })  # fmt: skip
            photo_rows.append((image_id, product_id, photo))
            photo_blends.append((photo, s.partner_photos[position], s.blend))
        for index, (rating, title, body, author) in enumerate(s.reviews):
            reviews.append({
                "product_id": product_id, "rating": rating, "title": title, "body": body, "author": author,
                "created_at": None, "fingerprint": hashlib.sha256(f"{s.sku}\x1f{index}".encode()).hexdigest(),
            })  # fmt: skip

    text_vector = _perturb(np.stack([_product_base(s, "text_vector") for s in plan]), rng["text_vector"])
    aligned_text = _perturb(np.stack([_product_base(s, "aligned_text") for s in plan]), rng["aligned_text"])
    aligned_image = _perturb(
        _stack([_product_base(s, "aligned_image") for s in plan], generation.joint_dim), rng["aligned_image"]
    )
    photo_vector = _perturb(
        _stack([_blend(p.vector, q and q.vector, w) for p, q, w in photo_blends], generation.image_dim), rng["photo"]
    )
    photo_aligned = _perturb(
        _stack([_blend(p.aligned, q and q.aligned, w) for p, q, w in photo_blends], generation.joint_dim),
        rng["photo_aligned"],
    )
    # A product's image vector is the normalised mean of its photos' vectors, as the embedding pipeline makes it
    # (photo search reads it as the product's pooled photo vector: embeddings/indexes.py).
    image_vector = np.zeros((len(plan), generation.image_dim), np.float32)
    row_of = {product_id: i for i, product_id in enumerate(product_ids)}
    owner = np.array([row_of[product_id] for _image, product_id, _photo in photo_rows], dtype=int)
    if len(owner):
        np.add.at(image_vector, owner, photo_vector)
    norms = np.linalg.norm(image_vector, axis=1, keepdims=True)
    image_vector = image_vector / np.where(norms > 0, norms, 1)

    embeddings = []
    for i, (product_id, s) in enumerate(zip(product_ids, plan, strict=True)):
        has_image = bool(s.photos) and s.source.aligned_image is not None and s.source.image_vector is not None
        if has_image:  # fused as the pipeline makes it, from the (noisy) aligned halves
            fused = generation.image_weight * aligned_image[i] + generation.text_weight * aligned_text[i]
            fused = (fused / np.linalg.norm(fused)).astype(np.float32)
        else:
            fused = aligned_text[i]
        embeddings.append({
            "generation_id": generation.pk, "product_id": product_id, "text_vector": text_vector[i],
            "image_vector": image_vector[i] if has_image else None, "aligned_text": aligned_text[i],
            "aligned_image": aligned_image[i] if has_image else None, "fused": fused,
            "photo_count": len(s.photos) if has_image else 0, "content_version": 1,
        })  # fmt: skip
    photo_embeddings = [
        {
            "generation_id": generation.pk,
            "image_id": image_id,
            "product_id": product_id,
            # half precision, as the photo table stores them (migration embeddings/0011)
            "vector": HalfVector(photo_vector[j]),
            "aligned": HalfVector(photo_aligned[j]),
        }  # fmt: skip
        for j, (image_id, product_id, _photo) in enumerate(photo_rows)
    ]

    _copy(cursor, Product, products, now)
    _copy(cursor, ProductCategory, links, now)
    _copy(cursor, ProductImage, images, now)
    _copy(cursor, Review, reviews, now)
    _copy(cursor, ProductEmbedding, embeddings, now, binary=True)
    _copy(cursor, ImageEmbedding, photo_embeddings, now, binary=True)
    return len(products), len(images), len(reviews)


# --- the build ---------------------------------------------------------------------------------------------------


class _Phases:
    def __init__(self, verbose: bool):
        self.verbose = verbose
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        yield
        self.seconds[name] = time.monotonic() - started
        if self.verbose:
            print(f"  {name}: {self.seconds[name]:.1f} s", flush=True)


TABLES = [
    "catalog_product", "catalog_productcategory", "catalog_productimage", "catalog_review",
    "embeddings_productembedding", "embeddings_imageembedding", "search_searchdocument",
]  # fmt: skip

# The figures of the last build in this process (phase -> seconds), for callers that report them.
last_timings: dict[str, float] = {}


def build_scaled_catalog(
    *, products: int, seed: int = 0, source: Path = DEFAULT_SOURCE, progress: bool = True
) -> EmbeddingGeneration:
    """Fill the current (migrated, empty) database with ``products`` products grown from the catalog ``source``
    and return the active generation, which holds vectors for all of them. See the module docstring."""
    from django.db import connection, transaction
    from django.utils import timezone
    from pgvector.psycopg.halfvec import register_halfvec_info
    from pgvector.psycopg.vector import register_vector_info
    from psycopg.types import TypeInfo
    from tqdm import tqdm

    from catalog.models import Product
    from catalog.services import catalog_import
    from embeddings.indexes import indexed_columns, indexes_create, indexes_drop
    from embeddings.models import EmbeddingGeneration, Job
    from embeddings.services.operations import job_run, job_start
    from search.documents import search_documents_update

    phases = _Phases(progress)
    started = time.monotonic()
    with phases.phase("import source catalog"):
        report = catalog_import(path=Path(source))
        if progress:
            print(f"  source: {report.summary()}", flush=True)
    with phases.phase("train head + build generation (real encoders)"):
        job = job_start(kind=Job.Kind.BUILD, options={"train": True}, run_async=False)
        job_run(job=job)
        job.refresh_from_db()
        generation = EmbeddingGeneration.objects.get(pk=job.generation_id)
        if generation.state != EmbeddingGeneration.State.ACTIVE:
            raise RuntimeError(f"generation {generation.pk} is {generation.state}, not active")

    with phases.phase("plan synthetic products"):
        sources, vocabulary = _source_load(generation)
        source_count = Product.objects.count()
        count = products - source_count
        if count < 0:
            raise ValueError(f"products={products} is fewer than the {source_count} products of the source catalog")
        rare = round(products * RARE_FRACTION)
        if rare > count:
            raise ValueError(f"products={products}: not enough synthetic products to mark {rare} as rare")
        seeds = np.random.SeedSequence(seed).spawn(1 + len(_VECTOR_STREAMS))
        plan = _synthetics_plan(sources, vocabulary, count=count, rare=rare, rng=np.random.default_rng(seeds[0]))
        # One stream per vector column: the vectors do not depend on the chunk size.
        streams = {name: np.random.default_rng(s) for name, s in zip(_VECTOR_STREAMS, seeds[1:], strict=True)}
        if progress:
            print(f"  {len(sources)} embedded source products, {count} synthetic to add ({rare} rare)", flush=True)

    with phases.phase("COPY synthetic rows"):
        indexes_drop(generation.pk)  # HNSW inserts one row at a time are slow: rebuild after the load
        now = timezone.now()
        totals = [0, 0, 0]
        connection.ensure_connection()
        # pgvector's dumpers (binary COPY of numpy arrays), registered on the COPY cursors only: Django's own reads
        # of vector columns expect text, so its connection is left as it is.
        vector_info = TypeInfo.fetch(connection.connection, "vector")
        halfvec_info = TypeInfo.fetch(connection.connection, "halfvec")
        with tqdm(total=count, unit="product", disable=not progress, desc="  loading") as bar:
            for start in range(0, count, CHUNK):
                chunk = plan[start : start + CHUNK]
                with transaction.atomic(), connection.connection.cursor() as cursor:
                    register_vector_info(cursor, vector_info)
                    register_halfvec_info(cursor, halfvec_info)
                    loaded = _load_chunk(cursor, chunk, generation, streams, now)
                totals = [a + b for a, b in zip(totals, loaded, strict=True)]
                bar.update(len(chunk))
        if progress:
            print(f"  loaded {totals[0]} products, {totals[1]} photos, {totals[2]} reviews", flush=True)
        del plan

    with phases.phase("full-text documents"):
        search_documents_update()

    with phases.phase("VACUUM ANALYZE"), connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"VACUUM (ANALYZE) {table}")

    with phases.phase("HNSW indexes"):
        with connection.cursor() as cursor:
            # the largest graph (the 1,408-d pooled photo vectors, ~4.1 KB a product) built in memory: a graph
            # that outgrows maintenance_work_mem is built on disk, several times slower
            cursor.execute(f"SET maintenance_work_mem = '{max(1024, products * 5 // 1024)}MB'")
            cursor.execute("SET max_parallel_maintenance_workers = 1")
        try:
            indexes_drop(generation.pk)
            # Each in a transaction of its own: a plain (not CONCURRENTLY) build, one table pass, committed when done
            # (the five at 1,000,000 products take over an hour: a build stopped half way keeps those it made).
            for name in indexed_columns(generation):
                with transaction.atomic():
                    indexes_create(generation, only=(name,))
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET maintenance_work_mem")
                cursor.execute("RESET max_parallel_maintenance_workers")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE embeddings_productembedding")
            cursor.execute("ANALYZE embeddings_imageembedding")

    phases.seconds["total"] = time.monotonic() - started
    if progress:
        print(f"  total: {phases.seconds['total']:.1f} s", flush=True)
    last_timings.clear()
    last_timings.update(phases.seconds)
    generation.refresh_from_db()
    return generation


# --- the kept scratch database -----------------------------------------------------------------------------------


# Bump when the generator changes what it builds: kept databases built by an older one are rebuilt.
# 3: a product's image vector is the mean of its photos' (was: a noisy copy of its source product's), and the
# generation has the photo index layout of EMBEDDING_PHOTO_INDEX.
GENERATOR_VERSION = 3


def _marker(products: int, seed: int) -> dict:
    return {"scaled_catalog": {"products": products, "seed": seed, "generator": GENERATOR_VERSION}}


def _database_comment(name: str) -> dict | None:
    """The build marker of database ``name``; None when it does not exist or was never finished."""
    from django.db import connection

    with connection._nodb_cursor() as cursor:
        cursor.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name])
        row = cursor.fetchone()
    if row is None:
        return None
    try:
        return json.loads(row[0] or "null")
    except ValueError:
        return None


def _use_database(name: str) -> None:
    from django.conf import settings
    from django.db import connection

    from search.candidates import search_thread_connection_close

    connection.close()
    search_thread_connection_close()  # its connection would go on reading the previous database
    settings.DATABASES[connection.alias]["NAME"] = name
    connection.settings_dict["NAME"] = name


def scaled_database_build(products: int, *, seed: int = 0, source: Path = DEFAULT_SOURCE, progress: bool = True):
    """(Re)create ``test_scaled_<products>``, build the catalog into it and keep it; Django stays pointed at it."""
    from django.db import connection

    name = scaled_database_name(products)
    connection.settings_dict["TEST"]["NAME"] = name
    started = time.monotonic()
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=False)
    if progress:
        print(f"  create + migrate {name}: {time.monotonic() - started:.1f} s", flush=True)
    generation = build_scaled_catalog(products=products, seed=seed, source=source, progress=progress)
    with connection.cursor() as cursor:
        # the build's phase timings stay with the database, for the reports of later runs (build_seconds)
        built = {"seconds": {k: round(v, 1) for k, v in last_timings.items()}, "at": datetime.now().isoformat()}
        marker = json.dumps({**_marker(products, seed), "build": built}).replace("'", "''")
        cursor.execute(f"COMMENT ON DATABASE {name} IS '{marker}'")
    return generation


def _current(comment: dict | None, products: int, seed: int) -> bool:
    """Whether a database's build marker is that of this generator for ``products`` and ``seed``."""
    return isinstance(comment, dict) and comment.get("scaled_catalog") == _marker(products, seed)["scaled_catalog"]


def build_seconds(products: int) -> dict[str, float] | None:
    """The phase timings (phase -> seconds) of the build of the kept ``test_scaled_<products>``, if recorded."""
    comment = _database_comment(scaled_database_name(products))
    return comment.get("build", {}).get("seconds") if isinstance(comment, dict) else None


@contextlib.contextmanager
def scaled_database(products: int, *, seed: int = 0, source: Path = DEFAULT_SOURCE, progress: bool = True):
    """Point Django at the kept database ``test_scaled_<products>`` (built first when missing, unfinished, or built
    with another seed or generator version; migrated when new migrations appeared) and yield its active generation.
    The database stays."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from embeddings.models import EmbeddingGeneration

    name = scaled_database_name(products)
    original = settings.DATABASES[connection.alias]["NAME"]
    try:
        if _current(_database_comment(name), products, seed):
            _use_database(name)
            call_command("migrate", verbosity=0, interactive=False)
            generation = EmbeddingGeneration.objects.get(state=EmbeddingGeneration.State.ACTIVE)
        else:
            generation = scaled_database_build(products, seed=seed, source=source, progress=progress)
        yield generation
    finally:
        _use_database(original)


def scaled_database_drop(products: int) -> bool:
    from django.db import connection

    name = scaled_database_name(products)
    with connection._nodb_cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        exists = cursor.fetchone() is not None
        if exists:
            cursor.execute(f'DROP DATABASE "{name}"')
    return exists


def _summary() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"SELECT count(*) FROM {table}")
            print(f"  {table}: {cursor.fetchone()[0]} rows")
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        print(f"  database {connection.settings_dict['NAME']}: {cursor.fetchone()[0]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, required=True, help="products in all (source + synthetic)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--drop", action="store_true", help=f"drop {scaled_database_name(0).rstrip('0')}<N> and exit")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or phase timings")
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _setup import django_setup

    django_setup()
    name = scaled_database_name(args.products)
    if args.drop:
        print(f"dropped {name}" if scaled_database_drop(args.products) else f"{name} does not exist")
        return
    print(f"building {name}: {args.products} products, seed {args.seed}, source {args.source}", flush=True)
    generation = scaled_database_build(args.products, seed=args.seed, source=args.source, progress=not args.quiet)
    print(f"generation {generation.pk} ({generation.state}): text {generation.text_dim}-d, image "
          f"{generation.image_dim}-d, joint {generation.joint_dim}-d")  # fmt: skip
    _summary()
    print(f"kept {name}; drop it with: python bench/scaled_catalog.py --products {args.products} --drop")


if __name__ == "__main__":
    main()
