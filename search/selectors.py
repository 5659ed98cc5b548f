"""Search reads: candidates from every signal (full-text in one statement, run while the query is encoded; every
vector signal in another), each statement with its candidates' search documents (``search.documents``: facet
values, price, rating and result card); facets and the page come from those documents.

A text search costs two round trips to PostgreSQL (full-text candidates, vector candidates), a photo search one, a
browse three (page with total, facets, cards), whatever the catalog size; the query vectors are computed once per
request (and remembered for repeated queries).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import time
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from django.conf import settings
from django.db import DatabaseError, connection

from catalog.models import ProductImage
from embeddings.indexes import vector_expression
from embeddings.models import EmbeddingGeneration
from embeddings.neural.encoders import query_encoder, set_threads
from embeddings.selectors import active_generation
from embeddings.services.embedding import generation_models

from .documents import TS_CONFIG
from .filters import Filters, filters_sql
from .ranking import FusionConfig, Ranked, fuse
from .spelling import current_vocabulary

logger = logging.getLogger(__name__)

PRICE_BUCKETS = [(0, 25), (25, 50), (50, 100), (100, 200), (200, None)]
RATING_BUCKETS = [4, 3, 2, 1]
FACETS = ("category", "brand", "color", "size", "price", "rating")
# How strongly the optional text of a photo search pulls the photo's joint vector ("like this, but in blue").
PHOTO_TEXT_REFINE_WEIGHT = 0.6
PHOTOS_PER_PRODUCT_FETCH = 3


@dataclass
class PhotoQuery:
    image_vector: np.ndarray  # image encoder space
    joint_vector: np.ndarray  # joint space (photo, refined by the text if any)


@dataclass
class SearchQuery:
    text: str = ""
    filters: Filters = field(default_factory=Filters)
    page: int = 1
    page_size: int = 20
    fusion: FusionConfig | None = None
    photo: PhotoQuery | None = None


@dataclass
class SearchResult:
    total: int
    ranking: list[Ranked]  # the page, best first
    facets: dict[str, list[dict]]
    products: list[dict]  # the page's products, same order as ranking
    corrected_query: str = ""


def _literal(vector: np.ndarray) -> str:
    return "[" + ",".join(map("{:.6g}".format, np.asarray(vector, dtype=np.float32).tolist())) + "]"


@functools.lru_cache(maxsize=2048)
def query_text_vectors(generation: EmbeddingGeneration, text: str) -> tuple[np.ndarray, np.ndarray]:
    """(text encoder vector, joint-space vector) of a query; repeated queries are not encoded again."""
    encoders, head = generation_models(generation)
    set_threads(settings.SEARCH_TORCH_THREADS)
    encoder = query_encoder(encoders.text, int8=settings.SEARCH_QUERY_INT8)
    text_vector = encoder.encode_texts([text])[0]
    return text_vector, head.project(text_vector[None, :], "text")[0]


def photo_query(generation: EmbeddingGeneration, image, text: str = "") -> PhotoQuery:
    """The vectors of a photo search: the photo in the image space and in the joint space, pulled towards the
    optional ``text`` ("like this, but in blue")."""
    encoders, head = generation_models(generation)
    set_threads(settings.SEARCH_TORCH_THREADS)
    image_vector = encoders.image.encode_images([image.convert("RGB")])[0]
    joint = head.project(image_vector[None, :], "image")[0]
    if text:
        joint = joint + PHOTO_TEXT_REFINE_WEIGHT * query_text_vectors(generation, text)[1]
        joint = joint / np.linalg.norm(joint)
    return PhotoQuery(image_vector=image_vector, joint_vector=joint)


_generation_cache: tuple[float, EmbeddingGeneration | None] = (0.0, None)
# Search reads the active generation at most this often (activation shows within this many seconds).
ACTIVE_GENERATION_TTL_SECONDS = 2.0


def active_generation_cached() -> EmbeddingGeneration | None:
    global _generation_cache
    now = time.monotonic()
    if now - _generation_cache[0] > ACTIVE_GENERATION_TTL_SECONDS:
        _generation_cache = (now, active_generation())
    return _generation_cache[1]


_attribute_names: tuple[float, frozenset[str]] = (0.0, frozenset())
# Attribute names are re-read at most this often, and at once when a request names one not seen yet.
ATTRIBUTE_NAMES_TTL_SECONDS = 60


def attribute_names(*, refresh: bool = False) -> frozenset[str]:
    """Attribute names that exist in the catalog (any of them can be a filter)."""
    global _attribute_names
    now = time.monotonic()
    if refresh or now - _attribute_names[0] > ATTRIBUTE_NAMES_TTL_SECONDS:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT DISTINCT jsonb_object_keys(attributes) FROM catalog_product UNION "
                "SELECT DISTINCT jsonb_object_keys(attributes) FROM catalog_variant"
            )
            _attribute_names = (now, frozenset(row[0] for row in cursor.fetchall()))
    return _attribute_names[1]


def process_caches_clear() -> None:
    """Forget the active generation and attribute names cached in this process (after an activation)."""
    global _generation_cache, _attribute_names
    _generation_cache = (0.0, None)
    _attribute_names = (0.0, frozenset())


def _vector_subquery(generation: EmbeddingGeneration, signal: str, column: str, where: str) -> tuple[str, str]:
    """Nearest products by one vector column. No ``IS NOT NULL`` condition (it costs a cast per row read): the
    HNSW index holds no NULL vector, and an exact scan sorts them last, with a NULL score that ``_collect``
    drops."""
    expression, dim = vector_expression(generation, column)
    sql = (
        f"(SELECT '{signal}' AS signal, e.product_id, 1 - ({expression} <=> %s::halfvec({dim})) AS score "
        f"FROM embeddings_productembedding e{_product_join('e', where)} "
        f"WHERE e.generation_id = %s AND {where} ORDER BY {expression} <=> %s::halfvec({dim}) LIMIT %s)"
    )
    return sql, dim


def _photo_subquery(generation: EmbeddingGeneration, where: str) -> str:
    expression, dim = vector_expression(generation, "photo")
    return (
        "(SELECT 'image' AS signal, product_id, max(score) AS score FROM ("
        f"SELECT ie.product_id, 1 - ({expression} <=> %s::halfvec({dim})) AS score "
        f"FROM embeddings_imageembedding ie{_product_join('ie', where)} "
        f"WHERE ie.generation_id = %s AND {where} ORDER BY {expression} <=> %s::halfvec({dim}) LIMIT %s"
        ") photos GROUP BY product_id)"
    )


def tsquery_sql(alternatives: list[list[str]]) -> tuple[str, list[str]]:
    """Every query word must match (AND), through any of its alternatives (the word or its typo corrections,
    OR), each through the stemmer. Partial matches are the vector signals' job."""
    groups, params = [], []
    for words in alternatives:
        group = [f"plainto_tsquery('{TS_CONFIG}', %s)" for _ in words]
        params += words
        groups.append("(" + " || ".join(group) + ")")
    return (" && ".join(groups) or f"plainto_tsquery('{TS_CONFIG}', '')"), params


def _product_join(alias: str, where: str) -> str:
    """Join the product table only when a filter needs it (one join less on every unfiltered search)."""
    return "" if where == "true" else f" JOIN catalog_product p ON p.id = {alias}.product_id"


def _search_thread() -> ThreadPoolExecutor:
    """This process's second search thread (made after a fork: threads do not survive one)."""
    global _thread
    if _thread is None or _thread[0] != os.getpid():
        _thread = (os.getpid(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="search"))
    return _thread[1]


_thread: tuple[int, ThreadPoolExecutor] | None = None


def search_thread_connection_close() -> None:
    """Close the search thread's database connection (before dropping a database: it would hold it open)."""
    if _thread is not None and _thread[0] == os.getpid():
        _thread[1].submit(lambda: connection.close()).result()  # the lambda reads the thread's own connection


def _apart(sql: str, params: list) -> tuple[dict[str, list[tuple[int, float]]], dict[int, Document]]:
    """``_collect`` on the search thread's own database connection (Django's connections are per thread)."""
    lists: dict[str, list[tuple[int, float]]] = {}
    docs: dict[int, Document] = {}
    try:
        _collect(lists, sql, params, docs)
    except DatabaseError:
        connection.close()  # a broken connection is not kept: the next statement here opens a new one
        raise
    return lists, docs


def candidates(
    generation: EmbeddingGeneration,
    query: SearchQuery,
    alternatives: list[list[str]],
    text: str,
    docs: dict[int, Document] | None = None,
) -> dict[str, list[tuple[int, float]]]:
    """Every signal's candidates under the filters: full text in one statement, every vector signal in another.
    With text, two things happen at once (torch, the tokenizer and database waits all release the GIL):

    - outside a transaction (a web request), the full-text statement runs on the search thread's own connection
      while this thread encodes the query and runs the vector statement, so the two statements run side by side
      on two cores (``SEARCH_PARALLEL_STATEMENTS``);
    - inside one (whose writes another connection cannot see), the search thread encodes the query while the
      full-text statement runs here, then the vector statement.

    A text search costs two statements, a photo search one. With ``docs``, each statement also reads its
    candidates' search documents into it."""
    where, where_params = filters_sql(query.filters)
    n = settings.SEARCH_VECTOR_CANDIDATES
    lists: dict[str, list[tuple[int, float]]] = {}
    fulltext = None
    text_vector = joint = None
    if text:
        generation_models(generation)  # loaded here: the encoding thread must not query the database
        tsquery, ts_params = tsquery_sql(alternatives)
        fulltext_sql = (
            f"SELECT 'fulltext' AS signal, d.product_id, ts_rank(d.document, q.query) AS score "
            f"FROM search_searchdocument d{_product_join('d', where)}, "
            f"(SELECT {tsquery} AS query) q WHERE d.document @@ q.query AND {where} ORDER BY score DESC, "
            f"d.product_id LIMIT %s"
        )
        fulltext_params = ts_params + where_params + [settings.SEARCH_FULLTEXT_CANDIDATES]
        if settings.SEARCH_PARALLEL_STATEMENTS and not connection.in_atomic_block:
            fulltext = _search_thread().submit(_apart, fulltext_sql, fulltext_params)
            text_vector, joint = query_text_vectors(generation, text)
        else:
            encoded = _search_thread().submit(query_text_vectors, generation, text)
            _collect(lists, fulltext_sql, fulltext_params, docs)
            text_vector, joint = encoded.result()
    parts, params = [], []
    if text_vector is not None:
        sql, _ = _vector_subquery(generation, "text_vector", "text_vector", where)
        parts.append(sql)
        literal = _literal(text_vector)
        params += [literal, generation.pk, *where_params, literal, n]
    if query.photo is not None:
        joint = query.photo.joint_vector
        parts.append(_photo_subquery(generation, where))
        literal = _literal(query.photo.image_vector)
        # Several photos per product: fetch more photos than the product candidates wanted.
        params += [literal, generation.pk, *where_params, literal, n * PHOTOS_PER_PRODUCT_FETCH]
    if joint is not None:
        literal = _literal(joint)
        for signal, column in (("cross_modal", "aligned_image"), ("fused", "fused")):
            sql, _ = _vector_subquery(generation, signal, column, where)
            parts.append(sql)
            params += [literal, generation.pk, *where_params, literal, n]
    if parts:
        _collect(lists, " UNION ALL ".join(parts), params, docs)
    if fulltext is not None:
        try:
            fulltext_lists, fulltext_docs = fulltext.result()
        except DatabaseError as exc:  # the search thread's connection failed: once more, on this one
            logger.warning("full-text statement on the search thread failed (%s); running it here", exc)
            fulltext_lists, fulltext_docs = {}, {}
            _collect(fulltext_lists, fulltext_sql, fulltext_params, fulltext_docs)
        lists.update(fulltext_lists)
        if docs is not None:
            docs.update(fulltext_docs)
    for hits in lists.values():
        hits.sort(key=lambda hit: (-hit[1], hit[0]))  # relaxed-order index scans return nearly sorted rows
    return lists


class Document(NamedTuple):
    """What a search reads of a candidate (``search_searchdocument``): facet values, price and rating for the
    facets, and the result card as JSON text (parsed for the page only)."""

    facets: list[str]
    price: float | None
    rating: float | None
    card: str


def _collect(
    lists: dict[str, list[tuple[int, float]]], sql: str, params: list, docs: dict[int, Document] | None = None
) -> None:
    """Run a candidates statement (rows of signal, product id, score) into ``lists``; with ``docs``, also read the
    search documents of its candidates not in ``docs`` yet, each once, in the same statement (a product deleted
    meanwhile drops out of ``lists``). A NULL score (a missing vector, in an exact scan) is no candidate."""
    if docs is not None:
        sql = (f"WITH found AS ({sql}), "
               "wanted AS (SELECT DISTINCT product_id FROM found WHERE NOT (product_id = ANY(%s))), "
               "read AS MATERIALIZED (SELECT d.product_id, d.facets, d.price::float8, d.rating::float8, d.card::text "
               "FROM search_searchdocument d JOIN wanted ON wanted.product_id = d.product_id) "
               "SELECT found.signal, found.product_id, found.score, read.product_id, read.facets, read.price, "
               "read.rating, read.card FROM found LEFT JOIN read ON read.product_id = found.product_id")  # fmt: skip
        params = [*params, list(docs)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    for signal, product_id, score, *document in found:
        if docs is not None:
            if document[0] is not None:
                docs[product_id] = Document(*document[1:])
            elif product_id not in docs:
                continue
        if score is not None:
            lists.setdefault(signal, []).append((product_id, float(score)))


def facets(filters: Filters) -> dict[str, list[dict]]:
    """Exact facet counts over everything under ``filters`` (browsing), counted in SQL over the search documents; a
    search counts its matching set's documents with ``facets_from_documents``."""
    where, params = filters_sql(filters)
    price_cases = " ".join(
        f"WHEN d.price >= {low}" + (f" AND d.price < {high}" if high else "") + f" THEN '{low}-{high or ''}'"
        for low, high in PRICE_BUCKETS
    )
    sql = f"""
        WITH d AS MATERIALIZED (SELECT d.facets, d.price, d.rating FROM search_searchdocument d
                                JOIN catalog_product p ON p.id = d.product_id WHERE {where})
        SELECT f, count(*) FROM d, unnest(d.facets) f GROUP BY f
        UNION ALL SELECT 'price=' || CASE {price_cases} END, count(*) FROM d WHERE d.price IS NOT NULL GROUP BY 1
        UNION ALL SELECT 'rating=' || r, count(*) FROM d, unnest(%s::int[]) r WHERE d.rating >= r GROUP BY r
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params + [RATING_BUCKETS])
        return _facets(cursor.fetchall())


def card_texts(product_ids: list[int]) -> dict[int, str]:
    """The result cards of these products as JSON text (``product_card`` makes one a product), read from their
    search documents in one query: id -> card (a product deleted meanwhile is missing)."""
    if not product_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT product_id, card::text FROM search_searchdocument WHERE product_id = ANY(%s)", [list(product_ids)]
        )
        return dict(cursor.fetchall())


def products_for_page(product_ids: list[int], cards: dict[int, str] | None = None) -> list[dict]:
    """The page's products, in the given order, from their cards' texts (read here unless given; products deleted
    meanwhile are skipped)."""
    cards = card_texts(product_ids) if cards is None else cards
    return [product_card(product_id, cards[product_id]) for product_id in product_ids if product_id in cards]


def product_card(product_id: int, card: str) -> dict:
    """A result card (JSON text of a search document) as a product: sku, name, price (text), currency, in_stock,
    brand, rating_average, rating_count, category, photo, and its id and photo URL."""
    product = json.loads(card)
    product["id"] = product_id
    product["photo_url"] = _photo_storage().url(product["photo"]) if product.get("photo") else None
    return product


@functools.cache
def _photo_storage():
    return ProductImage._meta.get_field("file").storage


def facets_from_documents(docs: Iterable[Document]) -> dict[str, list[dict]]:
    """The same facets as ``facets()``, counted over search documents already read (a search's matching set)."""
    counts: Counter = Counter()
    for document in docs:
        counts.update(document.facets)  # each value once per document
        if document.price is not None:
            counts[f"price={_price_bucket(document.price)}"] += 1
        if document.rating is not None:
            counts.update(f"rating={r}" for r in RATING_BUCKETS if document.rating >= r)
    return _facets(counts.items())


def _facets(counts: Iterable[tuple[str, int]]) -> dict[str, list[dict]]:
    """Facets from ("<facet>=<value>", count) pairs, each facet's values in display order."""
    result: dict[str, list[dict]] = {name: [] for name in FACETS}
    for key, count in counts:
        name, _, value = key.partition("=")
        result[name].append({"value": value, "count": count})
    return _facets_sorted(result)


def _price_bucket(price) -> str:
    for low, high in PRICE_BUCKETS:
        if price >= low and (high is None or price < high):
            return f"{low}-{high or ''}"
    return ""


def _facets_sorted(result: dict[str, list[dict]]) -> dict[str, list[dict]]:
    order = [f"{low}-{high or ''}" for low, high in PRICE_BUCKETS]
    for name, rows in result.items():
        if name == "price":
            rows.sort(key=lambda row: order.index(row["value"]))
        elif name == "rating":
            rows.sort(key=lambda row: -int(row["value"]))
        else:
            rows.sort(key=lambda row: (-row["count"], row["value"]))
    return result


def search_products(query: SearchQuery, generation: EmbeddingGeneration | None) -> SearchResult:
    """Text search, photo search (optionally refined by text) or, with neither, browsing under the filters."""
    text = query.text.strip()
    offset = (query.page - 1) * query.page_size
    if not text and query.photo is None:
        return _browse(query, offset)
    if generation is None:
        raise NoActiveGeneration("no embedding generation is active yet: run `manage.py reindex`")
    corrected = current_vocabulary().correct_query(text) if text else None
    alternatives = corrected.alternatives if corrected else []
    vector_text = corrected.corrected if corrected else ""
    docs: dict[int, Document] = {}  # the whole matching set's, read with the candidates: facets, and the page
    lists = candidates(generation, query, alternatives, vector_text, docs)
    ranking = fuse(lists, query.fusion or FusionConfig.from_settings(generation=generation))
    page = ranking[offset : offset + query.page_size]
    return SearchResult(
        total=len(ranking),
        ranking=page,
        facets=facets_from_documents(docs.values()),
        products=products_for_page([r.product_id for r in page], {r.product_id: docs[r.product_id].card for r in page}),
        corrected_query=vector_text if corrected and corrected.changed else "",
    )


def _browse(query: SearchQuery, offset: int) -> SearchResult:
    where, params = filters_sql(query.filters)
    sql = (
        f"SELECT p.id, count(*) OVER () FROM catalog_product p WHERE {where} "
        "ORDER BY p.in_stock DESC, p.rating_count DESC, p.name, p.id LIMIT %s OFFSET %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params + [query.page_size, offset])
        rows = cursor.fetchall()
    total = rows[0][1] if rows else _count(where, params)
    ids = [row[0] for row in rows]
    return SearchResult(
        total=total,
        ranking=[Ranked(product_id, 0.0, {}) for product_id in ids],
        facets=facets(query.filters),
        products=products_for_page(ids),
    )


def _count(where: str, params: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM catalog_product p WHERE {where}", params)
        return cursor.fetchone()[0]


class NoActiveGeneration(RuntimeError):
    pass
