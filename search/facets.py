"""Facet counts over a search's whole match set (or everything under the filters, when browsing).

Facet values live in the search documents as ``"<facet>=<value>"`` strings (``search.documents``); price and
rating are bucketed here. Keyword members are counted in SQL beside their retrieval (however many there are),
products found by vectors alone from their documents in Python, and the two sets of counts are added.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from django.db import connection

from .filters import Filters, filters_sql

PRICE_BUCKETS = [(0, 25), (25, 50), (50, 100), (100, 200), (200, None)]
RATING_BUCKETS = [4, 3, 2, 1]
FACETS = ("category", "brand", "color", "size", "price", "rating")


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
    with connection.cursor() as cursor:
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
    """Facets from ("<facet>=<value>", count) pairs, each facet's values in display order."""
    result: dict[str, list[dict]] = {name: [] for name in FACETS}
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
