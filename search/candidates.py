"""Candidate retrieval: what every signal finds for a query under its filters, in two SQL statements.

- The **keyword statement** (``search.keywords``) reads the keyword members best first by BM25 (as many as the
  ranking and the page need), how many there are in all, and the facet counts of all of them.
- The **vector statement** reads each vector signal's nearest products through the generation's HNSW indexes,
  with their search documents and what the keyword signal says of each (BM25 of the words it contains, and
  whether that makes it a keyword member).

A text search runs both side by side: outside a transaction the keyword statement runs on the search thread's own
connection while this thread encodes the query and runs the vector statement (``SEARCH_PARALLEL_STATEMENTS``);
inside one (whose writes another connection cannot see), the search thread encodes while the keyword statement
runs here. A photo search runs the vector statement alone. Which candidates join the match set is decided in
``search.match_set``.
"""

from __future__ import annotations

import contextvars
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

from embeddings.indexes import photo_code_query, photo_index_per_photo, vector_expression
from embeddings.models import EmbeddingGeneration
from embeddings.queries import query_text_vectors
from embeddings.services.embedding import generation_models
from shop_search.db import read_connection

from .cache import kind_counts_read, kind_counts_share
from .facets import facet_counts_sql
from .filters import filters_sql
from .keywords import KeywordQuery
from .types import Candidates, Document, SearchQuery, VectorHit

logger = logging.getLogger(__name__)

# Several photos per product: a photo search reads this many times more photos than it wants products.
PHOTOS_PER_PRODUCT_FETCH = 3


def text_candidates(
    generation: EmbeddingGeneration | None, query: SearchQuery, keyword: KeywordQuery | None, text: str, depth: int
) -> Candidates:
    """The keyword members (the best ``depth`` of them with their documents) and, with a generation, every
    vector signal's candidates of ``text`` (the typo-corrected query)."""
    where, where_params = filters_sql(query.filters)
    found = Candidates(kind="text", names_category=keyword is not None and keyword.names_category)
    read = _keyword_statement(keyword, where, where_params, depth) if keyword is not None else None
    if generation is None:
        if read:
            _read_keyword(found, read)
        return found
    generation_models(generation)  # loaded here: the encoding thread must not query the database
    pending = None
    if read and settings.SEARCH_PARALLEL_STATEMENTS and not read_connection().in_atomic_block:
        # the search thread reads where this one does (a replica: ``shop_search.db``): it runs in a copy of this
        # thread's context, after the database was chosen above
        pending = _search_thread().submit(contextvars.copy_context().run, _apart, read)
        text_vector, joint = query_text_vectors(generation, text)
    else:
        encoded = _search_thread().submit(query_text_vectors, generation, text)
        if read:
            _read_keyword(found, read)
        text_vector, joint = encoded.result()
    signals = [("text_vector", "text_vector", text_vector)]
    if not generation.text_only:
        signals += [("cross_modal", "aligned_image", joint), ("fused", "fused", joint)]
    _read_vectors(found, generation, signals, where, where_params, keyword)
    if pending is not None:
        try:
            apart = pending.result()
        except DatabaseError as exc:  # the search thread's connection failed: once more, on this one
            logger.warning("keyword statement on the search thread failed (%s); running it here", exc)
            apart = Candidates(kind="text")
            _read_keyword(apart, read)
        found.keyword, found.keyword_total, found.keyword_facets = (
            apart.keyword,
            apart.keyword_total,
            apart.keyword_facets,
        )
        for product_id, document in apart.docs.items():
            found.docs.setdefault(product_id, document)
    return found


def photo_candidates(generation: EmbeddingGeneration, query: SearchQuery) -> Candidates:
    """Every vector signal's candidates of a photo: its nearest product photos (image space) and, with a trained
    head, the nearest products to its joint-space vector."""
    where, where_params = filters_sql(query.filters)
    found = Candidates(kind="photo")
    signals = [("image", "photo", query.photo.image_vector)]
    if query.photo.joint_vector is not None and not generation.text_only:
        joint = query.photo.joint_vector
        signals += [("cross_modal", "aligned_image", joint), ("fused", "fused", joint)]
    _read_vectors(found, generation, signals, where, where_params, None)
    return found


@dataclass
class _KeywordRead:
    """A keyword statement and what reading its rows needs: with a named kind, its ``_KindCounts`` key and the
    counts known when the statement was made (None: the statement reads them)."""

    sql: str
    params: list
    key: tuple | None = None
    catalog: object = None
    known: tuple[int, list[tuple[str, int]]] | None = None


def _keyword_statement(keyword: KeywordQuery, where: str, where_params: list, depth: int) -> _KeywordRead:
    """The keyword members' statement: the best ``depth`` of them by BM25 with their documents, how many there are
    and their facet counts (rows 'hit', 'total', 'facet'). A query that names a kind: see ``_kind_statement``."""
    if keyword.kinds:
        return _kind_statement(keyword, where, where_params, depth)
    sql = (
        "WITH m AS MATERIALIZED ("
        f"SELECT d.product_id, {keyword.score} AS score, d.facets, d.price, d.rating "
        f"FROM search_searchdocument d{_product_join('d', where)}, {keyword.source}, {keyword.terms} "
        f"WHERE {keyword.match} AND {where}), "
        "top AS MATERIALIZED (SELECT product_id, score FROM m ORDER BY score DESC, product_id LIMIT %s), "
        f"counts(f, n) AS ({facet_counts_sql('m')}) "
        f"{_HITS} UNION ALL SELECT 'total', NULL, count(*)::float8, NULL, NULL, NULL, NULL FROM m "
        "UNION ALL SELECT 'facet', NULL, counts.n::float8, NULL, NULL, NULL, counts.f FROM counts"
    )
    return _KeywordRead(sql, [*keyword.params, *where_params, depth])


_HITS = (
    "SELECT 'hit', top.product_id, top.score::float8, d.facets, d.price::float8, d.rating::float8, d.card::text "
    "FROM top JOIN search_searchdocument d ON d.product_id = top.product_id"
)


# At most this many products with every word of a query naming a kind are scored by BM25 (``_kind_statement``).
KIND_SCORED_MAX = 1500


class _KindCounts:
    """How many products each kind (its categories, under the filters) holds and their facet counts, remembered
    per process while the catalog's term statistics hold (they are rebuilt after any catalog change): every
    query naming the kind ("hoodie", "gray hoodie", "men's hoodie") shares them. The process that counts them
    shares them with the others through Redis, under the catalog state its statistics were read at
    (``search.cache.kind_counts_read``): each kind is counted once per catalog change, not once per process (a
    large kind's count reads a good part of the catalog: README, "Running at scale")."""

    lock = threading.Lock()
    known: dict[tuple, tuple[object, int, list[tuple[str, int]]]] = {}
    KEEP = 4096


def _kind_statement(keyword: KeywordQuery, where: str, where_params: list, depth: int) -> _KeywordRead:
    """A query that names a kind: its members are the kind's products (by the category facet's GIN index). Only
    what must be read per query is: the products with every word, scored by BM25 (the kind's other products score
    0 here, and the other signals rank them), and enough of the others to fill ``depth``. The kind's total and
    facets are read once per catalog version and filters (``_KindCounts``) instead of counting thousands of
    products each time. Rows as ``_keyword_statement``'s, with the total and facets only when not known."""
    join = _product_join("d", where)
    kq = keyword.source
    # A one-word query's word is its kind: every member of the kind has it, so BM25 would only add noise. Nor are
    # the products with every word scored when thousands may have them ("men's shorts": every men's product says
    # "men"): a word that common tells the kind's members hardly apart, and the vector signals rank them.
    several = keyword.words > 1 and keyword.every_at_most <= KIND_SCORED_MAX
    key = (keyword.kinds, where, repr(where_params))
    known = _KindCounts.known.get(key)
    counted = known is not None and known[0] is keyword.catalog
    if not counted:
        shared = kind_counts_read(keyword.catalog.identity, key)
        if shared is not None:
            known, counted = (keyword.catalog, *shared), True
            _kind_counts_remember(key, known)
    parts, params = [], []
    if several:
        parts.append(
            f"tier AS MATERIALIZED (SELECT d.product_id, {keyword.score} AS score "
            f"FROM search_searchdocument d{join} CROSS JOIN {kq} CROSS JOIN {keyword.terms} "
            f"WHERE d.document @@ ({keyword.every}) AND {keyword.match} AND {where} "
            "ORDER BY score DESC, d.product_id LIMIT %s)"
        )
        params += [*keyword.params, *where_params, depth]
    else:
        parts.append("tier AS (SELECT NULL::bigint AS product_id, 0::float8 AS score WHERE false)")
    parts.append(
        f"fill AS MATERIALIZED (SELECT d.product_id, 0::float8 AS score FROM search_searchdocument d{join} "
        f"CROSS JOIN {kq} WHERE {keyword.match} AND {where} "
        "AND NOT EXISTS (SELECT 1 FROM tier WHERE tier.product_id = d.product_id) LIMIT %s)"
    )
    params += [*keyword.params, *where_params, depth]
    parts.append("top AS (SELECT product_id, score FROM tier UNION ALL SELECT product_id, score FROM fill)")
    tail = ""
    if not counted:
        parts.append(
            f"m AS MATERIALIZED (SELECT d.facets, d.price, d.rating FROM search_searchdocument d{join} "
            f"CROSS JOIN {kq} WHERE {keyword.match} AND {where})"
        )
        params += [*keyword.params, *where_params]
        parts.append(f"counts(f, n) AS ({facet_counts_sql('m')})")
        tail = (
            " UNION ALL SELECT 'total', NULL, count(*)::float8, NULL, NULL, NULL, NULL FROM m "
            "UNION ALL SELECT 'facet', NULL, counts.n::float8, NULL, NULL, NULL, counts.f FROM counts"
        )
    sql = "WITH " + ", ".join(parts) + f" {_HITS}{tail}"
    return _KeywordRead(sql, params, key, keyword.catalog, known[1:] if counted else None)


def _read_keyword(found: Candidates, read: _KeywordRead) -> None:
    # Counts remembered across requests (``_KindCounts``) are read from the primary: the term statistics they are
    # kept with were, and a replica may not have replayed what those saw yet.
    remember = read.key is not None and read.known is None
    with (connections[DEFAULT_DB_ALIAS] if remember else read_connection()).cursor() as cursor:
        cursor.execute(read.sql, read.params)
        rows = cursor.fetchall()
    for kind, product_id, value, facets, price, rating, text in rows:
        if kind == "hit":
            found.keyword.append((product_id, float(value)))
            found.docs[product_id] = Document(facets, price, rating, text)
        elif kind == "total":
            found.keyword_total = int(value)
        elif text is not None:
            found.keyword_facets.append((text, int(value)))
    found.keyword.sort(key=lambda hit: (-hit[1], hit[0]))
    if read.key is None:
        return
    if read.known is None:
        _kind_counts_remember(read.key, (read.catalog, found.keyword_total, list(found.keyword_facets)))
        kind_counts_share(read.catalog.identity, read.key, found.keyword_total, found.keyword_facets)
    else:
        found.keyword_total, kind_facets = read.known
        found.keyword_facets = list(kind_facets)


def _kind_counts_remember(key: tuple, known: tuple) -> None:
    with _KindCounts.lock:
        if len(_KindCounts.known) >= _KindCounts.KEEP:
            _KindCounts.known.clear()
        _KindCounts.known[key] = known


def _apart(read: _KeywordRead) -> Candidates:
    """``_read_keyword`` on the search thread's own database connection (Django's connections are per thread)."""
    found = Candidates(kind="text")
    try:
        _read_keyword(found, read)
    except DatabaseError:
        connections.close_all()  # a broken connection is not kept: the next statement here opens a new one
        raise
    return found


def _literal(vector: np.ndarray) -> str:
    return "[" + ",".join(map("{:.6g}".format, np.asarray(vector, dtype=np.float32).tolist())) + "]"


def _product_join(alias: str, where: str) -> str:
    """Join the product table only when a filter needs it (one join less on every unfiltered search)."""
    return "" if where == "true" else f" JOIN catalog_product p ON p.id = {alias}.product_id"


def _vector_subquery(
    generation: EmbeddingGeneration, signal: str, column: str, where: str, where_params: list, literal: str
) -> tuple[str, list]:
    """Nearest products by one vector column (``photo``: by their best photo), and the statement's parameters. No
    ``IS NOT NULL`` condition (it costs a cast per row read): the HNSW index holds no NULL vector, and an exact scan
    sorts them last, with a NULL score that is dropped."""
    n = settings.SEARCH_VECTOR_CANDIDATES
    if column == "photo":
        return _photo_subquery(generation, signal, where, where_params, literal)
    expression, dim = vector_expression(generation, column)
    return (
        f"(SELECT '{signal}' AS signal, e.product_id, 1 - ({expression} <=> %s::halfvec({dim})) AS score "
        f"FROM embeddings_productembedding e{_product_join('e', where)} "
        f"WHERE e.generation_id = %s AND {where} ORDER BY {expression} <=> %s::halfvec({dim}) LIMIT %s)"
    ), [literal, generation.pk, *where_params, literal, n]


def _photo_subquery(
    generation: EmbeddingGeneration, signal: str, where: str, where_params: list, literal: str
) -> tuple[str, list]:
    """The products of the ``SEARCH_VECTOR_CANDIDATES`` x ``PHOTOS_PER_PRODUCT_FETCH`` photos nearest to the query
    photo, each with its best photo's cosine.

    With an index over every photo (``photo_index`` "photo"), read through it. Otherwise (``product``) the nearest
    ``SEARCH_PHOTO_RESCORE_PRODUCTS`` products by their pooled photo vector (the mean of their photos, through its
    index) are the candidates, and their photos are scored exactly from the vectors stored in the table (half
    precision, as the indexes compare them: migration embeddings/0011): the photos ranked are the same as an exact
    scan's as long as the best photos' products are among the candidates (bench/vector_storage.py measures how
    often). With binary photo codes (``binary``), the candidates are the
    ``SEARCH_PHOTO_RESCORE_PHOTOS`` nearest photos by Hamming distance of their codes (through the index of codes),
    scored exactly the same way."""
    photos = settings.SEARCH_VECTOR_CANDIDATES * PHOTOS_PER_PRODUCT_FETCH
    if generation.photo_index == EmbeddingGeneration.PhotoIndex.BINARY:
        code, _dim = vector_expression(generation, "photo_code")
        # Read through the codes' IVFFlat index: the connection's IVFFLAT_PROBES lists, more while a filter leaves
        # fewer photos than the limit (its iterative scan).
        return (
            f"(SELECT '{signal}' AS signal, product_id, max(score) AS score FROM ("
            "SELECT near.product_id, 1 - (near.vector <=> %s::halfvec) AS score FROM ("
            f"SELECT ie.product_id, ie.vector FROM embeddings_imageembedding ie{_product_join('ie', where)} "
            f"WHERE ie.generation_id = %s AND {where} ORDER BY {code} <~> {photo_code_query(generation)} LIMIT %s) "
            "near ORDER BY score DESC LIMIT %s) photos GROUP BY product_id)"
        ), [literal, generation.pk, *where_params, literal, settings.SEARCH_PHOTO_RESCORE_PHOTOS, photos]
    if photo_index_per_photo(generation):
        expression, dim = vector_expression(generation, "photo")
        return (
            f"(SELECT '{signal}' AS signal, product_id, max(score) AS score FROM ("
            f"SELECT ie.product_id, 1 - ({expression} <=> %s::halfvec({dim})) AS score "
            f"FROM embeddings_imageembedding ie{_product_join('ie', where)} "
            f"WHERE ie.generation_id = %s AND {where} ORDER BY {expression} <=> %s::halfvec({dim}) LIMIT %s"
            ") photos GROUP BY product_id)"
        ), [literal, generation.pk, *where_params, literal, photos]
    pooled, dim = vector_expression(generation, "image_vector")
    # The connection's ef_search (40) with its iterative scan reads these candidates as well as a beam as wide as
    # SEARCH_PHOTO_RESCORE_PRODUCTS, set for the statement alone (SET LOCAL, as this did before): at 50,000
    # products, the same recall@10 to the 4th decimal for 300 and 1000 candidates and a p50 within 2 ms.
    return (
        f"(SELECT '{signal}' AS signal, product_id, max(score) AS score FROM ("
        "SELECT ie.product_id, 1 - (ie.vector <=> %s::halfvec) AS score FROM ("
        f"SELECT e.product_id FROM embeddings_productembedding e{_product_join('e', where)} "
        f"WHERE e.generation_id = %s AND {where} ORDER BY {pooled} <=> %s::halfvec({dim}) LIMIT %s) near "
        "JOIN embeddings_imageembedding ie ON ie.generation_id = %s AND ie.product_id = near.product_id "
        "ORDER BY score DESC LIMIT %s) photos GROUP BY product_id)"
    ), [literal, generation.pk, *where_params, literal, settings.SEARCH_PHOTO_RESCORE_PRODUCTS, generation.pk, photos]


def _read_vectors(
    found: Candidates,
    generation: EmbeddingGeneration,
    signals: list[tuple[str, str, np.ndarray]],
    where: str,
    where_params: list,
    keyword: KeywordQuery | None,
) -> None:
    """One statement: every signal's nearest products, their documents and their keyword score and membership."""
    parts, params = [], []
    for signal, column, vector in signals:
        sql, sql_params = _vector_subquery(generation, signal, column, where, where_params, _literal(vector))
        parts.append(sql)
        params += sql_params
    keyword_columns, keyword_source = "0::float8 AS kscore, false AS kmember", ""
    if keyword is not None:
        keyword_columns = f"({keyword.score})::float8 AS kscore, {keyword.match} AS kmember"
        keyword_source = f", {keyword.source}, {keyword.terms}"
        params += keyword.params
    sql = (
        f"WITH found AS ({' UNION ALL '.join(parts)}), "
        "wanted AS (SELECT DISTINCT product_id FROM found), "
        "read AS MATERIALIZED (SELECT d.product_id, d.facets, d.price::float8, d.rating::float8, d.card::text, "
        f"{keyword_columns} FROM search_searchdocument d JOIN wanted ON wanted.product_id = d.product_id"
        f"{keyword_source}) "
        "SELECT found.signal, found.product_id, found.score, read.facets, read.price, read.rating, read.card, "
        "read.kscore, read.kmember FROM found JOIN read ON read.product_id = found.product_id"
    )
    with read_connection().cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    for signal, product_id, score, facets, price, rating, card, keyword_score, member in rows:
        if score is None:
            continue
        found.docs.setdefault(product_id, Document(facets, price, rating, card))
        found.vectors.setdefault(signal, []).append(
            VectorHit(product_id, float(score), float(keyword_score or 0.0), bool(member))
        )
    for hits in found.vectors.values():
        hits.sort(key=lambda hit: (-hit.score, hit.product_id))  # relaxed-order index scans return nearly sorted rows


def _search_thread() -> ThreadPoolExecutor:
    """This process's second search thread (made after a fork: threads do not survive one)."""
    global _thread
    if _thread is None or _thread[0] != os.getpid():
        _thread = (os.getpid(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="search"))
    return _thread[1]


_thread: tuple[int, ThreadPoolExecutor] | None = None


def search_thread_connection_close() -> None:
    """Close the search thread's database connections (before dropping a database: they would hold it open)."""
    if _thread is not None and _thread[0] == os.getpid():
        _thread[1].submit(connections.close_all).result()  # the thread's own connections
