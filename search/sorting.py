"""Where a sort other than relevance orders a result set: price, newest, rating, popularity, or an attribute the
shop marks sortable.

A sort orders the very match set relevance would rank (``search.match_set``): the same members, total and facets,
only in another order. Sorting is done in SQL over every member, not over the candidates read for relevance: the
keyword members by the query's match condition, plus the members only vectors found (their ids), so that page 40
of "jacket" by price is as exact as page 1. Ties are broken by product id, so pages never repeat or skip a
product. Products without the sorted value (no price, no rating) come last in either direction.
"""

from __future__ import annotations

from collections.abc import Iterable

from shop_search.db import read_connection

from .filters import Filters, filters_sql
from .keywords import KeywordQuery

RELEVANCE = "relevance"
# sort -> ORDER BY over catalog_product p and its popularity pp (product id last: a total order)
ORDER_BY = {
    "price_asc": "p.price ASC NULLS LAST, p.id",
    "price_desc": "p.price DESC NULLS LAST, p.id",
    "newest": "p.created_at DESC, p.id DESC",
    "rating": "p.rating_average DESC NULLS LAST, p.rating_count DESC, p.id",
    "popularity": "coalesce(pp.score, 0) DESC, p.rating_count DESC, p.id",
}
SORTS = (RELEVANCE, *ORDER_BY)
# A sort by an attribute the shop's setup marks sortable (``catalog.selectors.attribute_setup``): "<name>_asc" or
# "<name>_desc"; numbers in number order before texts in alphabetical order, products without it last.
ATTRIBUTE_ORDER = (
    "(CASE WHEN jsonb_typeof(p.attributes -> %s) = 'number' THEN (p.attributes ->> %s)::numeric END) {0} NULLS LAST, "
    "lower(p.attributes ->> %s) {0} NULLS LAST, p.id"
)


# Built-in fields the fixed sorts cover (price_asc, rating...), never read as attributes.
BUILTIN_SORTS = frozenset({"price", "rating", "category", "brand"})


def attribute_sort(sort: str, sortable: Iterable[str]) -> str | None:
    """The attribute ``sort`` orders by ("material_asc" -> "material"), if it is one of ``sortable``."""
    name, _, direction = sort.rpartition("_")
    attribute = direction in ("asc", "desc") and name not in BUILTIN_SORTS and name in set(sortable)
    return name if attribute else None


def order_sql(sort: str) -> tuple[str, list]:
    """(ORDER BY clause, params) of a sort other than relevance."""
    if sort in ORDER_BY:
        return ORDER_BY[sort], []
    name, _, direction = sort.rpartition("_")
    return ATTRIBUTE_ORDER.format("ASC" if direction == "asc" else "DESC"), [name, name, name]


# Browsing in relevance order: what a shop shows first without a query (in stock, most reviewed).
BROWSE_ORDER = "p.in_stock DESC, p.rating_count DESC, p.name, p.id"


def _popularity_join(sort: str) -> str:
    return " LEFT JOIN search_productpopularity pp ON pp.product_id = p.id" if sort == "popularity" else ""


def browse_page(
    filters: Filters, sort: str, offset: int, limit: int, boost: tuple[str, list] = ("", [])
) -> tuple[list[int], int]:
    """(ids of one page, total) of everything under ``filters`` in ``sort`` order; in the default order, the
    query rules' ``boost`` tiers first (``search.rules.boost_sql``)."""
    where, params = filters_sql(filters)
    order, order_params = order_sql(sort) if sort != RELEVANCE else (BROWSE_ORDER, [])
    if sort == RELEVANCE and boost[0]:
        order, order_params = f"({boost[0]}) DESC, {order}", list(boost[1])
    sql = (
        f"SELECT p.id, count(*) OVER () FROM catalog_product p{_popularity_join(sort)} WHERE {where} "
        f"ORDER BY {order} LIMIT %s OFFSET %s"
    )
    with read_connection().cursor() as cursor:
        cursor.execute(sql, params + order_params + [limit, offset])
        rows = cursor.fetchall()
        if rows:
            return [row[0] for row in rows], rows[0][1]
    return [], browse_total(filters)


def browse_total(filters: Filters) -> int:
    """How many products ``filters`` admit."""
    where, params = filters_sql(filters)
    with read_connection().cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM catalog_product p WHERE {where}", params)
        return cursor.fetchone()[0]


def sorted_members(
    filters: Filters,
    sort: str,
    *,
    keyword: KeywordQuery | None,
    member_ids: Iterable[int],
    offset: int,
    limit: int,
) -> list[int]:
    """One page of a match set in ``sort`` order: its members are the products under ``filters`` that match
    ``keyword`` (the keyword members, however many) or are among ``member_ids`` (those vectors admitted)."""
    where, params = filters_sql(filters)
    ids = sorted(set(member_ids))
    conditions, member_params = [], []
    if ids:
        conditions.append("p.id = ANY(%s)")
        member_params.append(ids)
    if keyword is not None:
        conditions.append(
            f"EXISTS (SELECT 1 FROM search_searchdocument d, {keyword.source} "
            f"WHERE d.product_id = p.id AND {keyword.match})"
        )
        member_params += keyword.params
    if not conditions:
        return []
    order, order_params = order_sql(sort)
    sql = (
        f"SELECT p.id FROM catalog_product p{_popularity_join(sort)} WHERE {where} AND ({' OR '.join(conditions)}) "
        f"ORDER BY {order} LIMIT %s OFFSET %s"
    )
    with read_connection().cursor() as cursor:
        cursor.execute(sql, params + member_params + order_params + [limit, offset])
        return [row[0] for row in cursor.fetchall()]
