"""Full-text documents: one weighted tsvector per product, rebuilt in SQL whenever the product changes."""

from __future__ import annotations

from django.db import connection

# Text search configuration: English stemming ("jackets" finds "jacket"), stop words dropped.
TS_CONFIG = "english"

_DOCUMENT_SQL = f"""
INSERT INTO search_searchdocument (product_id, document)
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
            WHERE r.product_id = p.id), '')), 'D')
FROM catalog_product p
WHERE {{where}}
ON CONFLICT (product_id) DO UPDATE SET document = EXCLUDED.document
"""


def search_documents_update(*, product_ids: list[int] | None = None) -> None:
    """Rebuild the documents of these products (all products when ``None``): one statement."""
    with connection.cursor() as cursor:
        if product_ids is None:
            cursor.execute(_DOCUMENT_SQL.format(where="true"))
        elif product_ids:
            cursor.execute(_DOCUMENT_SQL.format(where="p.id = ANY(%s)"), [list(product_ids)])
