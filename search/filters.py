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
    # Products left out whatever else holds: hidden by a query rule (``search.rules``), or pinned (placed apart).
    exclude_skus: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        data = {
            "category": self.category,
            "brand": self.brand,
            "price_min": str(self.price_min) if self.price_min is not None else None,
            "price_max": str(self.price_max) if self.price_max is not None else None,
            "in_stock": self.in_stock,
            "rating_min": str(self.rating_min) if self.rating_min is not None else None,
            "attributes": [list(pair) for pair in self.attributes],
            "exclude_skus": list(self.exclude_skus),
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
            exclude_skus=tuple(data.get("exclude_skus", ())),
        )

    @classmethod
    def from_params(cls, params: dict) -> Filters:
        """Filters written as search parameters (``{"brand": "Luma", "price_max": "80", "color": "Black"}``: any name
        that is not a fixed filter is an attribute), as an API key holds them; ``ValueError`` says what is wrong."""
        fixed = {"category", "brand", "price_min", "price_max", "in_stock", "rating_min"}

        def text(key: str, limit: int) -> str:
            value = params.get(key, "")
            if not isinstance(value, str) or len(value) > limit:
                raise ValueError(f"{key!r} must be a text of at most {limit} characters")
            return value.strip()

        def number(key: str, high: Decimal) -> Decimal | None:
            if params.get(key) in (None, ""):
                return None
            try:
                value = Decimal(str(params[key]))
            except ArithmeticError:
                raise ValueError(f"{key!r} must be a number") from None
            if not value.is_finite() or not Decimal(0) <= value <= high:
                raise ValueError(f"{key!r} must be from 0 to {high}")
            return value

        in_stock = params.get("in_stock")
        if in_stock is not None and not isinstance(in_stock, bool):
            raise ValueError("'in_stock' must be true or false")
        attributes = []
        for name, value in sorted(params.items()):
            if name in fixed:
                continue
            if not isinstance(value, str) or not value.strip() or len(value) > 200 or len(name) > 100:
                raise ValueError(f"attribute {name!r} must be a non-empty value of at most 200 characters")
            attributes.append((name, value.strip()))
        filters = cls(
            category=text("category", 512).strip("/ "),
            brand=text("brand", 120),
            price_min=number("price_min", Decimal("1e10")),
            price_max=number("price_max", Decimal("1e10")),
            in_stock=in_stock,
            rating_min=number("rating_min", Decimal(5)),
            attributes=tuple(attributes),
        )
        if filters.price_min is not None and filters.price_max is not None and filters.price_min > filters.price_max:
            raise ValueError("'price_max' must not be below 'price_min'")
        return filters

    def held_to(self, restriction: Filters) -> Filters:
        """These filters held to ``restriction`` (an API key's): a request may narrow its searches further (a
        subcategory, a tighter price range) but never widen them; where it asks for something outside the
        restriction (another brand), the restriction's filter replaces its own."""
        category = self.category
        if restriction.category and not (category == restriction.category
                                         or category.startswith(restriction.category + "/")):  # fmt: skip
            category = restriction.category

        def tighter(mine, theirs, pick):
            return theirs if mine is None else mine if theirs is None else pick(mine, theirs)

        names = {name for name, _ in restriction.attributes}
        return Filters(
            category=category,
            brand=restriction.brand or self.brand,
            price_min=tighter(self.price_min, restriction.price_min, max),
            price_max=tighter(self.price_max, restriction.price_max, min),
            in_stock=self.in_stock if restriction.in_stock is None else restriction.in_stock,
            rating_min=tighter(self.rating_min, restriction.rating_min, max),
            attributes=tuple(sorted({*restriction.attributes, *(a for a in self.attributes if a[0] not in names)})),
            exclude_skus=tuple(sorted({*self.exclude_skus, *restriction.exclude_skus})),
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
    if filters.exclude_skus:
        clauses.append("p.sku <> ALL(%s)")
        params.append(list(filters.exclude_skus))
    return (" AND ".join(clauses) or "true"), params


def filters_product_ids_sql(filters: Filters) -> tuple[str, list]:
    """``(sql, params)`` selecting the ids of the products ``filters`` admit (a subquery for the ORM: ``RawSQL``)."""
    condition, params = filters_sql(filters)
    return f"SELECT p.id FROM catalog_product p WHERE {condition}", params
