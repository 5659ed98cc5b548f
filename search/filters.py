"""Filters of a search, as SQL over ``catalog_product p``. Every search signal and the facets share them, so a
filter means the same thing everywhere."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class Filters:
    category: str = ""  # a category path; its descendants match too
    brand: str = ""
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    in_stock: bool | None = None
    rating_min: Decimal | None = None
    attributes: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (name, value), all must match

    def as_dict(self) -> dict:
        data = {
            "category": self.category,
            "brand": self.brand,
            "price_min": str(self.price_min) if self.price_min is not None else None,
            "price_max": str(self.price_max) if self.price_max is not None else None,
            "in_stock": self.in_stock,
            "rating_min": str(self.rating_min) if self.rating_min is not None else None,
            "attributes": [list(pair) for pair in self.attributes],
        }
        return {key: value for key, value in data.items() if value not in (None, "", [])}

    @classmethod
    def from_dict(cls, data: dict) -> Filters:
        """The inverse of ``as_dict`` (popular requests are stored that way)."""

        def number(key: str) -> Decimal | None:
            return Decimal(data[key]) if data.get(key) is not None else None

        return cls(
            category=data.get("category", ""),
            brand=data.get("brand", ""),
            price_min=number("price_min"),
            price_max=number("price_max"),
            in_stock=data.get("in_stock"),
            rating_min=number("rating_min"),
            attributes=tuple(tuple(pair) for pair in data.get("attributes", [])),
        )


def filters_sql(filters: Filters) -> tuple[str, list]:
    """``(condition, params)`` on ``catalog_product p``; ``"true"`` without filters."""
    clauses, params = [], []
    if filters.category:
        clauses.append(
            "EXISTS (SELECT 1 FROM catalog_productcategory pc JOIN catalog_category c ON c.id = pc.category_id "
            "WHERE pc.product_id = p.id AND (c.path = %s OR c.path LIKE %s))"
        )
        escaped = filters.category.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params += [filters.category, escaped + "/%"]
    if filters.brand:
        clauses.append("p.brand = %s")
        params.append(filters.brand)
    if filters.price_min is not None:
        clauses.append("p.price >= %s")
        params.append(filters.price_min)
    if filters.price_max is not None:
        clauses.append("p.price <= %s")
        params.append(filters.price_max)
    if filters.in_stock is not None:
        clauses.append("p.in_stock = %s")
        params.append(filters.in_stock)
    if filters.rating_min is not None:
        clauses.append("p.rating_average >= %s")
        params.append(filters.rating_min)
    for name, value in filters.attributes:
        # A value matches a string attribute or a list containing it, on the product or on one of its variants;
        # jsonb containment (@>) uses the GIN indexes of both tables.
        as_string, as_list = json.dumps({name: value}), json.dumps({name: [value]})
        clauses.append(
            "(p.attributes @> %s::jsonb OR p.attributes @> %s::jsonb OR EXISTS (SELECT 1 FROM catalog_variant v "
            "WHERE v.product_id = p.id AND (v.attributes @> %s::jsonb OR v.attributes @> %s::jsonb)))"
        )
        params += [as_string, as_list, as_string, as_list]
    return (" AND ".join(clauses) or "true"), params
