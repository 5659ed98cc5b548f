"""Result cards: what a result list shows of a product, read from its search document (``search.documents``).

A card is variant-aware: when the search filters by attributes its variants carry (``color=Black``), the card shows
the look of the variants that match (their photo and price, and the sku of the first) instead of the product's main
photo and price, unless the main look is one of the matching ones (``size=M`` on a product sold in M in every
colour keeps the main photo).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable

from catalog.models import ProductImage
from shop_search.db import read_connection

from .filters import Filters


def card_texts(product_ids: list[int]) -> dict[int, str]:
    """The result cards of these products as JSON text (``product_card`` makes one a product), read from their
    search documents in one query: id -> card (a product deleted meanwhile is missing)."""
    if not product_ids:
        return {}
    with read_connection().cursor() as cursor:
        cursor.execute(
            "SELECT product_id, card::text FROM search_searchdocument WHERE product_id = ANY(%s)", [list(product_ids)]
        )
        return dict(cursor.fetchall())


def products_for_page(
    product_ids: list[int], cards: dict[int, str] | None = None, filters: Filters | None = None
) -> list[dict]:
    """The page's products, in the given order, from their cards' texts (read here unless given; products deleted
    meanwhile are skipped), each showing the variant ``filters`` ask for (``product_card``)."""
    cards = card_texts(product_ids) if cards is None else cards
    attributes = filters.attributes if filters is not None else ()
    return [product_card(product_id, cards[product_id], attributes) for product_id in product_ids
            if product_id in cards]  # fmt: skip


def product_card(product_id: int, card: str, attributes: Iterable[tuple[str, str]] = ()) -> dict:
    """A result card (JSON text of a search document) as a product: sku, name, price (text), currency, in_stock,
    brand, rating_average, rating_count, category, photo, variant_sku (the variant shown, or None), and its id and
    photo URL. ``attributes``: the search's attribute filters, whose matching variant the card shows."""
    product = json.loads(card)
    looks = product.pop("variants", None) or []
    product["variant_sku"] = None
    if attributes and looks:
        look = matching_look(looks, list(attributes), photo=product.get("photo"), price=product.get("price"))
        if look is not None:
            product["variant_sku"] = look["sku"]
            product["photo"] = look.get("photo") or product.get("photo")
            if look.get("price") is not None:
                product["price"] = look["price"]
    product["id"] = product_id
    product["photo_url"] = _photo_storage().url(product["photo"]) if product.get("photo") else None
    return product


def matching_look(looks: list[dict], attributes: list[tuple[str, str]], *, photo, price) -> dict | None:
    """The look (``search.documents``: a variant photo and price with its variants' attribute values) that the
    attribute filters pick, or None for the main photo and price: when no filter names an attribute of the
    variants, when no look matches, or when the main look is among those that match. A look matches when each
    filter on an attribute it has names one of its values (values compare without case, as people type them)."""
    names = {name for look in looks for name in look.get("attributes", {})}
    wanted = [(name, value.casefold()) for name, value in attributes if name in names]
    if not wanted:
        return None

    def matches(look: dict) -> bool:
        values = look.get("attributes", {})
        return all(name not in values or value in (v.casefold() for v in values[name]) for name, value in wanted)

    found = [look for look in looks if matches(look)]
    if not found or any(look.get("photo") == photo and look.get("price") == price for look in found):
        return None
    first = found[0]
    same_photo = [look for look in found if look.get("photo") == first.get("photo")]
    priced = [look for look in same_photo if look.get("price") is not None]
    cheapest = min(priced, key=lambda look: float(look["price"])) if priced else first
    return {**first, "price": cheapest.get("price")}


@functools.cache
def _photo_storage():
    return ProductImage._meta.get_field("file").storage
