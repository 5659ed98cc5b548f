"""Facet counts over a search's whole match set (or everything under the filters, when browsing).

Facet values live in the search documents as ``"<facet>=<value>"`` strings (``search.documents``); price and
rating are bucketed here. Keyword members are counted in SQL beside their retrieval (however many there are),
products found by vectors alone from their documents in Python, and the two sets of counts are added. Which
facets a search shows, and in which order, is the shop's attribute setup (``catalog.selectors.attribute_setup``:
category, brand, color, size, price, rating when it set nothing).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from catalog.selectors import attribute_setup
from shop_search.db import read_connection

from .filters import Filters, filters_sql

PRICE_BUCKETS = [(0, 25), (25, 50), (50, 100), (100, 200), (200, None)]
RATING_BUCKETS = [4, 3, 2, 1]


def facet_counts_sql(source: str) -> str:
    """SQL rows ("<facet>=<value>", count) over ``source`` (a CTE with columns facets, price, rating), in two passes:
    the facet values (``unnest``), then every price and rating bucket as one aggregate (``count(*) FILTER``)."""
    buckets = [
        (f"price={low}-{high or ''}", f"{source}.price >= {low}" + (f" AND {source}.price < {high}" if high else ""))
        for low, high in PRICE_BUCKETS
    ] + [(f"rating={r}", f"{source}.rating >= {r}") for r in RATING_BUCKETS]
    names = ", ".join(f"'{name}'" for name, _condition in buckets)
    counts = ", ".join(f"count(*) FILTER (WHERE {condition})" for _name, condition in buckets)
    return (
        f"SELECT f, count(*) FROM (SELECT unnest({source}.facets) AS f FROM {source}) values GROUP BY f "
        f"UNION ALL SELECT unnest(ARRAY[{names}]), unnest(ARRAY[{counts}]) FROM {source}"
    )


def browse_facets(filters: Filters) -> dict[str, list[dict]]:
    """Exact facet counts over everything under ``filters`` (browsing), counted in SQL."""
    where, params = filters_sql(filters)
    sql = (
        "WITH d AS MATERIALIZED (SELECT d.facets, d.price, d.rating FROM search_searchdocument d "
        f"JOIN catalog_product p ON p.id = d.product_id WHERE {where}) " + facet_counts_sql("d")
    )
    with read_connection().cursor() as cursor:
        cursor.execute(sql, params)
        return facets_from_counts(cursor.fetchall())


def document_counts(docs: Iterable) -> Counter:
    """("<facet>=<value>" -> count) over search documents already read (``search.types.Document``)."""
    counts: Counter = Counter()
    for document in docs:
        counts.update(document.facets)  # each value once per document
        if document.price is not None:
            counts[f"price={_price_bucket(document.price)}"] += 1
        if document.rating is not None:
            counts.update(f"rating={r}" for r in RATING_BUCKETS if document.rating >= r)
    return counts


def facets_from_counts(counts: Iterable[tuple[str, int]]) -> dict[str, list[dict]]:
    """Facets from ("<facet>=<value>", count) pairs: the facets of the attribute setup in its order, each facet's
    values in display order (a value of a facet the setup no longer shows is left out)."""
    result: dict[str, list[dict]] = {name: [] for name in attribute_setup().facets}
    for key, count in counts:
        name, _, value = key.partition("=")
        if name in result and count:
            result[name].append({"value": value, "count": count})
    order = [f"{low}-{high or ''}" for low, high in PRICE_BUCKETS]
    for name, rows in result.items():
        if name == "price":
            rows.sort(key=lambda row: order.index(row["value"]))
        elif name == "rating":
            rows.sort(key=lambda row: -int(row["value"]))
        else:
            rows.sort(key=lambda row: (-row["count"], row["value"]))
    return result


def _price_bucket(price) -> str:
    for low, high in PRICE_BUCKETS:
        if price >= low and (high is None or price < high):
            return f"{low}-{high or ''}"
    return ""


def pinned_documents(pins: list[tuple[int, str, int]]) -> dict:
    """Product id -> search document (``search.types.Document``) of the products a query rule pinned
    (``search.rules.pinned_products``): they join the result set, and its facets count them."""
    from .types import Document

    if not pins:
        return {}
    with read_connection().cursor() as cursor:
        cursor.execute(
            "SELECT product_id, facets, price::float8, rating::float8, card::text FROM search_searchdocument "
            "WHERE product_id = ANY(%s)",
            [[product_id for product_id, _sku, _position in pins]],
        )
        return {row[0]: Document(*row[1:]) for row in cursor.fetchall()}


def facets_with(facets: dict[str, list[dict]], docs: Iterable) -> dict[str, list[dict]]:
    """``facets`` with these documents counted too."""
    docs = list(docs)
    if not docs:
        return facets
    counts = document_counts(docs)
    for name, rows in facets.items():
        for row in rows:
            counts[f"{name}={row['value']}"] += row["count"]
    return facets_from_counts(counts.items())
