"""Search documents: what search reads of a product, one row per product, rebuilt in SQL whenever it changes.

A search answers from these rows alone (its candidates' documents are read by the candidate statements): the
weighted full-text vector, the facet values, price and rating for the price and rating facets, and the card a
result list shows. Filters still read ``catalog_product`` itself.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection

# Text search configuration: English stemming ("jackets" finds "jacket"), stop words dropped.
TS_CONFIG = settings.SEARCH_TEXT_CONFIG

# The values of attribute ``{0}`` of product ``p`` (a list or one value in the catalog), as text rows.
_ATTRIBUTE_VALUES = (
    "jsonb_array_elements_text(CASE jsonb_typeof(p.attributes -> '{0}') WHEN 'array' THEN p.attributes -> '{0}' "
    "WHEN 'null' THEN '[]'::jsonb ELSE jsonb_build_array(p.attributes -> '{0}') END)"
)
# Facet values of a document: "<facet>=<value>", each once; a category counts with all its ancestors.
_FACET_ATTRIBUTES = ("color", "size")

_FACETS_SQL = " UNION ".join(
    [
        "SELECT 'brand=' || p.brand WHERE p.brand <> ''",
        *(f"SELECT '{name}=' || v FROM {_ATTRIBUTE_VALUES.format(name)} v WHERE v <> ''" for name in _FACET_ATTRIBUTES),
        "SELECT 'category=' || array_to_string((string_to_array(c.path, '/'))[1:n], '/') "
        "FROM catalog_productcategory pc JOIN catalog_category c ON c.id = pc.category_id, "
        "generate_series(1, c.depth + 1) n WHERE pc.product_id = p.id",
    ]
)

_DOCUMENT_SQL = f"""
INSERT INTO search_searchdocument (product_id, document, facets, price, rating, card)
SELECT p.id,
       setweight(to_tsvector('{TS_CONFIG}', coalesce(p.name, '')), 'A')
    || setweight(to_tsvector('{TS_CONFIG}', coalesce(p.brand, '') || ' ' || coalesce(
           (SELECT string_agg(replace(c.path, '/', ' '), ' ') FROM catalog_productcategory pc
            JOIN catalog_category c ON c.id = pc.category_id WHERE pc.product_id = p.id), '')), 'B')
    || setweight(to_tsvector('{TS_CONFIG}', coalesce(
           (SELECT string_agg(value, ' ') FROM jsonb_each_text(p.attributes)
            WHERE lower(value) NOT IN ('yes', 'no', 'true', 'false')), '')), 'C')
    || setweight(to_tsvector('{TS_CONFIG}', left(coalesce(p.description, ''), 20000) || ' ' || coalesce(
           (SELECT string_agg(r.title || ' ' || left(r.body, 2000), ' ') FROM catalog_review r
            WHERE r.product_id = p.id), '')), 'D'),
       ARRAY(SELECT f FROM ({_FACETS_SQL}) facet(f) ORDER BY f),
       p.price,
       p.rating_average,
       jsonb_build_object(
           'sku', p.sku, 'name', p.name, 'price', p.price::text, 'currency', p.currency, 'in_stock', p.in_stock,
           'brand', p.brand, 'rating_average', p.rating_average, 'rating_count', p.rating_count,
           'category', (SELECT c.path FROM catalog_category c WHERE c.id = p.primary_category_id),
           'photo', (SELECT i.file FROM catalog_productimage i
                     WHERE i.product_id = p.id AND i.error = '' AND i.file <> '' ORDER BY i.position LIMIT 1))
FROM catalog_product p
WHERE {{where}}
ON CONFLICT (product_id) DO UPDATE SET document = EXCLUDED.document, facets = EXCLUDED.facets,
    price = EXCLUDED.price, rating = EXCLUDED.rating, card = EXCLUDED.card
"""


def search_documents_update(*, product_ids: list[int] | None = None) -> None:
    """Rebuild the documents of these products (all products when ``None``): one statement."""
    with connection.cursor() as cursor:
        if product_ids is None:
            cursor.execute(_DOCUMENT_SQL.format(where="true"))
        elif product_ids:
            cursor.execute(_DOCUMENT_SQL.format(where="p.id = ANY(%s)"), [list(product_ids)])
