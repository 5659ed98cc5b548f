"""Search documents: what search reads of a product, one row per product, rebuilt in SQL whenever it changes.

A search answers from these rows alone (its candidates' documents are read by the candidate statements): the
weighted full-text vector, the facet values, price and rating for the price and rating facets, and the card a
result list shows. Filters still read ``catalog_product`` itself.

- **Language**: the full-text vector is made with the text search configuration ``SEARCH_TEXT_CONFIG`` (one of
  PostgreSQL's: english, german, french, spanish, ..., simple: a language's stemmer and stop words), and queries
  are read with the same one (``search.keywords``). Accents are folded on both sides the way the query's words are
  (``search.spelling.tokenize``: "légère" and "legere" are one word; ``tsvector_sql``). Changing the setting needs
  the documents rebuilt: ``manage.py search_documents`` (``documents_current`` tells whether they follow it).
- **Facets**: ``"<facet>=<value>"`` for the category (with every ancestor) and the brand, always, and for each
  catalog attribute the shop declares a facet (``catalog.selectors.attribute_setup``), from the product and its
  variants: a variant's colour counts as the product's, as the colour filter already matches it.
- **Card**: what a result shows (sku, name, price, photo, ...) and the looks of its variants (each distinct photo
  and price with the attribute values of the variants that have it), so that a card can show the variant a filter
  asks for (``search.cards``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction

logger = logging.getLogger(__name__)

# The configuration at start (kept for code that formats it into SQL once); ``text_search_config()`` is what
# documents and queries use.
TS_CONFIG = settings.SEARCH_TEXT_CONFIG
_CONFIG_NAME = re.compile(r"^(?:[a-z_][a-z0-9_]*\.)?[a-z_][a-z0-9_]*$")


def text_search_config() -> str:
    """``SEARCH_TEXT_CONFIG``, checked to be a plain (optionally schema-qualified) name: it is written into SQL.
    Whether the database has it is ``text_search_config_check``'s question."""
    config = settings.SEARCH_TEXT_CONFIG
    if not isinstance(config, str) or not _CONFIG_NAME.match(config):
        raise ImproperlyConfigured(f"SEARCH_TEXT_CONFIG {config!r} is not the name of a text search configuration")
    return config


def text_search_configs() -> list[str]:
    """The text search configurations the database has (``pg_ts_config``)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT cfgname FROM pg_ts_config ORDER BY cfgname")
        return [row[0] for row in cursor.fetchall()]


def text_search_config_check() -> str:
    """The configuration, or ``ImproperlyConfigured`` naming the ones the database has."""
    config = text_search_config()
    schema, _, name = config.rpartition(".")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace "
            "WHERE c.cfgname = %s AND (%s = '' OR n.nspname = %s)",
            [name, schema, schema],
        )
        if cursor.fetchone() is None:
            available = ", ".join(text_search_configs())
            raise ImproperlyConfigured(f"SEARCH_TEXT_CONFIG {config!r} is not a text search configuration of the "
                                       f"database; it has: {available}")  # fmt: skip
    return config


# Combining marks (the blocks of combining diacritics): what is left of an accent once a letter is decomposed.
_COMBINING = "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"


def folded_sql(expression: str) -> str:
    """SQL of ``expression`` (text) with its accents folded as a query's words are (``search.spelling._fold``):
    decomposed (NFD, not NFKD: "™" stays a symbol, not the letters "TM") and the combining marks dropped, so
    "légère" is "legere" and "й" is "и". Linear in the text's length."""
    return f"regexp_replace(normalize({expression}, NFD), '{_COMBINING}', '', 'g')"


def tsvector_sql(expression: str, config: str | None = None) -> str:
    """SQL of the full-text vector of ``expression`` as documents make it: the configuration's stemmer and stop
    words on the text as written (German drops "für", French stems "légère" to "léger"), then the lexemes' accents
    folded ("leger", what the folded query word "legere" stems to). Folding the lexemes, not the text, keeps the
    stop words with accents stop words; the positions and weights in the vector's text are untouched."""
    vector = f"to_tsvector('{config or text_search_config()}', {expression})"
    return f"{folded_sql(f'{vector}::text')}::tsvector"


# The values of attribute ``{0}`` (SQL of its name) of the JSON object ``{1}`` (a list or one value), as text rows.
_ATTRIBUTE_VALUES = (
    "jsonb_array_elements_text(CASE jsonb_typeof({1} -> {0}) WHEN 'array' THEN {1} -> {0} "
    "WHEN 'null' THEN '[]'::jsonb ELSE jsonb_build_array({1} -> {0}) END)"
)
# Every (key, value) of the JSON object ``{0}`` of attributes (a list value as one row per item): ``a.key``, ``x``.
_ATTRIBUTE_ITEMS = (
    "jsonb_each(CASE WHEN jsonb_typeof({0}) = 'object' THEN {0} ELSE '{{}}'::jsonb END) a, "
    "jsonb_array_elements_text(CASE jsonb_typeof(a.value) WHEN 'array' THEN a.value WHEN 'null' THEN '[]'::jsonb "
    "ELSE jsonb_build_array(a.value) END) x"
)

# Facet values of a document: "<facet>=<value>", each once; a category counts with all its ancestors. The
# attribute facets (``%(facet_names)s``) come from the product and its variants.
_FACETS_SQL = " UNION ".join(
    [
        "SELECT 'brand=' || p.brand WHERE p.brand <> ''",
        "SELECT n || '=' || v FROM unnest(%(facet_names)s::text[]) n, "
        f"{_ATTRIBUTE_VALUES.format('n', 'p.attributes')} v WHERE v <> ''",
        f"SELECT n || '=' || v FROM unnest(%(facet_names)s::text[]) n, catalog_variant pv, "
        f"{_ATTRIBUTE_VALUES.format('n', 'pv.attributes')} v WHERE pv.product_id = p.id AND v <> ''",
        "SELECT 'category=' || array_to_string((string_to_array(c.path, '/'))[1:n], '/') "
        "FROM catalog_productcategory pc JOIN catalog_category c ON c.id = pc.category_id, "
        "generate_series(1, c.depth + 1) n WHERE pc.product_id = p.id",
    ]
)
_FACETS_ARRAY = f"ARRAY(SELECT f FROM ({_FACETS_SQL}) facet(f) ORDER BY f)"

# The looks of a product's variants: one per distinct (first usable photo, price), with the smallest sku of its
# variants and the values of their attributes ({"color": ["Black"], "size": ["L", "M", "S"]}), smallest sku first.
_VARIANTS_SQL = f"""
(SELECT coalesce(jsonb_agg(jsonb_build_object('sku', g.sku, 'photo', g.photo, 'price', g.price::text,
    'attributes', (SELECT coalesce(jsonb_object_agg(k.key, k.vals), '{{}}'::jsonb) FROM (
        SELECT a.key, jsonb_agg(DISTINCT x ORDER BY x) AS vals
        FROM catalog_variant gv, {_ATTRIBUTE_ITEMS.format("gv.attributes")}
        WHERE gv.id = ANY(g.ids) AND x <> '' GROUP BY a.key) k)) ORDER BY g.sku), '[]'::jsonb)
 FROM (SELECT min(v.sku) AS sku, vp.file AS photo, coalesce(v.price, p.price) AS price, array_agg(v.id) AS ids
       FROM catalog_variant v LEFT JOIN LATERAL (
           SELECT i.file FROM catalog_variant_images vi JOIN catalog_productimage i ON i.id = vi.productimage_id
           WHERE vi.variant_id = v.id AND i.error = '' AND i.file <> '' ORDER BY i.position, i.id LIMIT 1) vp ON true
       WHERE v.product_id = p.id GROUP BY vp.file, coalesce(v.price, p.price)) g)
"""


# The texts of the document's fields, weighted A (name), B (brand, categories), C (attribute values that are words,
# not flags), D (description and reviews).
_FIELD_TEXTS = {
    "A": "coalesce(p.name, '')",
    "B": """coalesce(p.brand, '') || ' ' || coalesce(
           (SELECT string_agg(replace(c.path, '/', ' '), ' ') FROM catalog_productcategory pc
            JOIN catalog_category c ON c.id = pc.category_id WHERE pc.product_id = p.id), '')""",
    "C": """coalesce(
           (SELECT string_agg(value, ' ') FROM jsonb_each_text(p.attributes)
            WHERE lower(value) NOT IN ('yes', 'no', 'true', 'false')), '')""",
    "D": """left(coalesce(p.description, ''), 20000) || ' ' || coalesce(
           (SELECT string_agg(r.title || ' ' || left(r.body, 2000), ' ') FROM catalog_review r
            WHERE r.product_id = p.id), '')""",
}


def _document_sql(where: str) -> str:
    config = text_search_config()
    document = "\n    || ".join(
        f"setweight({tsvector_sql(text, config)}, '{weight}')" for weight, text in _FIELD_TEXTS.items()
    )
    return f"""
INSERT INTO search_searchdocument (product_id, document, facets, price, rating, card)
SELECT p.id,
       {document},
       {_FACETS_ARRAY},
       p.price,
       p.rating_average,
       jsonb_build_object(
           'sku', p.sku, 'name', p.name, 'price', p.price::text, 'currency', p.currency, 'in_stock', p.in_stock,
           'brand', p.brand, 'rating_average', p.rating_average, 'rating_count', p.rating_count,
           'category', (SELECT c.path FROM catalog_category c WHERE c.id = p.primary_category_id),
           'photo', (SELECT i.file FROM catalog_productimage i
                     WHERE i.product_id = p.id AND i.error = '' AND i.file <> '' ORDER BY i.position LIMIT 1),
           'variants', {_VARIANTS_SQL})
FROM catalog_product p
WHERE {where}
ON CONFLICT (product_id) DO UPDATE SET document = EXCLUDED.document, facets = EXCLUDED.facets,
    price = EXCLUDED.price, rating = EXCLUDED.rating, card = EXCLUDED.card
"""


def _facet_names() -> list[str]:
    from catalog.selectors import attribute_setup

    return list(attribute_setup().attribute_facets)


def search_documents_update(*, product_ids: list[int] | None = None) -> None:
    """Rebuild the documents of these products (all products when ``None``): one statement."""
    params: dict = {"facet_names": _facet_names()}
    with connection.cursor() as cursor:
        if product_ids is None:
            cursor.execute(_document_sql("true"), params)
        elif product_ids:
            cursor.execute(_document_sql("p.id = ANY(%(ids)s)"), {**params, "ids": list(product_ids)})


def search_facets_update(*, product_ids: list[int] | None = None) -> int:
    """Rewrite only the facet values of these documents (all when ``None``), after the attribute facets changed:
    much cheaper than the full rebuild. Returns how many documents were rewritten."""
    sql = (
        f"UPDATE search_searchdocument d SET facets = {_FACETS_ARRAY} FROM catalog_product p "
        "WHERE p.id = d.product_id AND (%(ids)s::bigint[] IS NULL OR p.id = ANY(%(ids)s::bigint[])) "
        f"AND d.facets IS DISTINCT FROM {_FACETS_ARRAY}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, {"facet_names": _facet_names(), "ids": None if product_ids is None else list(product_ids)})
        return cursor.rowcount


# Products per statement of a rebuild of every document: each batch commits on its own (a rebuild stopped half way
# keeps what it did; running it again finishes it). About 1 s per batch for full documents at luma-dev's sizes.
REBUILD_BATCH = 2000


def search_documents_rebuild(
    *, facets_only: bool = False, progress: Callable[[int, int], None] | None = None, batch: int = REBUILD_BATCH
) -> int:
    """Rebuild every search document (``facets_only``: their facet values only) in batches of ``batch`` products by
    id, each in its own transaction, calling ``progress(done, total)`` after each. Returns the number of products."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM catalog_product ORDER BY id")
        ids = [row[0] for row in cursor.fetchall()]
    total = len(ids)
    if progress:
        progress(0, total)
    for start in range(0, total, batch):
        chunk = ids[start : start + batch]
        with transaction.atomic():
            if facets_only:
                search_facets_update(product_ids=chunk)
            else:
                search_documents_update(product_ids=chunk)
        if progress:
            progress(min(start + batch, total), total)
    return total


# Documents compared with their product by ``documents_current``: the names of this many products, at random.
CURRENT_SAMPLE = 50


def documents_current() -> bool:
    """Whether the documents follow ``SEARCH_TEXT_CONFIG``: the name part (weight A) of a sample of documents is
    what the configuration makes of their product's name now (another language stems and drops other words). A
    sample that differs means the setting changed since they were built: run ``manage.py search_documents``."""
    sql = (
        "SELECT count(*) FROM (SELECT d.document, p.name FROM search_searchdocument d "
        f"JOIN catalog_product p ON p.id = d.product_id ORDER BY random() LIMIT {CURRENT_SAMPLE}) s "
        f"WHERE ts_filter(s.document, '{{a}}') <> setweight({tsvector_sql('s.name')}, 'A')"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0] == 0


# --- refreshing every document, with progress -------------------------------------------------------------------

# Up to this many products, a refresh after a setup change runs at once (a facets-only refresh of 5,000 documents
# takes about a second); a bigger catalog's goes to a worker, with its progress in the cache.
REFRESH_INLINE_MAX = 5000
PROGRESS_KEY = "search:documents-refresh"  # a Django cache key: the last refresh's progress


def refresh_progress() -> dict | None:
    """The progress of the latest refresh of every document: state (queued, running, done, failed), done, total,
    facets_only, error, updated_at (epoch seconds); None when none ran."""
    from django.core.cache import cache

    try:
        return cache.get(PROGRESS_KEY)
    except Exception:  # noqa: BLE001 - no progress to show without the cache
        return None


def _progress_record(**state) -> None:
    import time

    from django.core.cache import cache

    try:
        cache.set(PROGRESS_KEY, {**(refresh_progress() or {}), **state, "updated_at": time.time()}, timeout=None)
    except Exception:  # noqa: BLE001 - progress is for people watching; the refresh goes on
        logger.warning("could not record the documents refresh progress")


def search_documents_refresh(*, facets_only: bool, run_async: bool | None = None) -> str:
    """Refresh every search document (``facets_only``: their facet values, after the attribute facets changed), at
    once for a small catalog, else on a worker (``run_async`` decides instead when given). Cached results are
    dropped when it is done. Returns "done" or "queued"."""
    from catalog.models import Product

    if run_async is None:
        run_async = Product.objects.count() > REFRESH_INLINE_MAX
    _progress_record(state="queued", done=0, total=0, facets_only=facets_only, error="")
    if run_async:
        from .tasks import documents_refresh_task

        documents_refresh_task.delay(facets_only)
        return "queued"
    search_documents_refresh_run(facets_only=facets_only)
    return "done"


def search_documents_refresh_run(*, facets_only: bool, progress: Callable[[int, int], None] | None = None) -> int:
    """Run a refresh of every document here, recording its progress; drops cached results (and the term
    statistics and vocabulary they were read with) when done. Returns the number of products."""
    from catalog.selectors import attribute_setup_clear

    from .merchandising import merchandising_changed

    attribute_setup_clear()  # the setup as it is now, not as this process last read it
    _progress_record(state="running", done=0, total=0, facets_only=facets_only, error="")
    try:

        def advance(done: int, total: int) -> None:
            _progress_record(done=done, total=total)
            if progress:
                progress(done, total)

        total = search_documents_rebuild(facets_only=facets_only, progress=advance)
    except Exception as exc:
        _progress_record(state="failed", error=str(exc)[:500])
        raise
    merchandising_changed()  # every cached result was computed from the documents as they were
    _progress_record(state="done")
    return total


def documents_language_check() -> None:
    """At a web process's start (``shop_search.readiness``): ``ImproperlyConfigured`` when ``SEARCH_TEXT_CONFIG``
    is not a configuration of the database; when the documents were built with another one, a warning and one
    rebuild queued on the workers (once an hour at most, whichever process sees it first)."""
    from django.core.cache import cache

    config = text_search_config_check()
    if documents_current():
        return
    logger.warning("the search documents do not follow SEARCH_TEXT_CONFIG=%r: rebuilding them on the workers", config)
    try:
        queue = cache.add("search:documents-language-rebuild", config, timeout=3600)
    except Exception:  # noqa: BLE001 - without the cache, `manage.py search_documents` does it
        queue = False
    if queue:
        search_documents_refresh(facets_only=False, run_async=True)
