"""Result cards: what a result list shows of a product, read from its search document (``search.documents``)."""

from __future__ import annotations

import functools
import json

from django.db import connection

from catalog.models import ProductImage


def card_texts(product_ids: list[int]) -> dict[int, str]:
    """The result cards of these products as JSON text (``product_card`` makes one a product), read from their
    search documents in one query: id -> card (a product deleted meanwhile is missing)."""
    if not product_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT product_id, card::text FROM search_searchdocument WHERE product_id = ANY(%s)", [list(product_ids)]
        )
        return dict(cursor.fetchall())


def products_for_page(product_ids: list[int], cards: dict[int, str] | None = None) -> list[dict]:
    """The page's products, in the given order, from their cards' texts (read here unless given; products deleted
    meanwhile are skipped)."""
    cards = card_texts(product_ids) if cards is None else cards
    return [product_card(product_id, cards[product_id]) for product_id in product_ids if product_id in cards]


def product_card(product_id: int, card: str) -> dict:
    """A result card (JSON text of a search document) as a product: sku, name, price (text), currency, in_stock,
    brand, rating_average, rating_count, category, photo, and its id and photo URL."""
    product = json.loads(card)
    product["id"] = product_id
    product["photo_url"] = _photo_storage().url(product["photo"]) if product.get("photo") else None
    return product


@functools.cache
def _photo_storage():
    return ProductImage._meta.get_field("file").storage
