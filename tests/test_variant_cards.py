"""Variant-aware cards: a search filtered by an attribute its variants carry (color=Black) shows the matching
variant's photo and price on the card, in text search, browsing and photo search; without such a filter, or when
the main look matches too, the card is the product's own."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.models import ProductImage
from catalog.services import catalog_import
from search.cards import matching_look

from .conftest import build_generation, jpeg_bytes

pytestmark = pytest.mark.django_db

GRAY, BLACK, ORANGE = (128, 128, 128), (15, 15, 15), (240, 130, 20)


def write_hoodie_shop(catalog_dir):
    """A hoodie whose main photo is gray, sold in black (two sizes, two prices) and orange; and a tent."""
    gray = catalog_dir.add_photo("h1-gray.jpg", jpeg_bytes(size=(48, 64), color=GRAY))
    black = catalog_dir.add_photo("h1-black.jpg", jpeg_bytes(size=(48, 64), color=BLACK))
    orange = catalog_dir.add_photo("h1-orange.jpg", jpeg_bytes(size=(48, 64), color=ORANGE))
    tent = catalog_dir.add_photo("t1.jpg", jpeg_bytes(size=(48, 64), color=(20, 150, 40)))
    catalog_dir.add_product(
        sku="H1", name="Fleece hoodie", categories=["Men/Hoodies"], price="52", images=[gray, black, orange],
        attributes={"color": ["Gray", "Black", "Orange"], "size": ["M", "L"]},
        variants=[
            {"sku": "H1-M-Gray", "images": [gray], "attributes": {"size": "M", "color": "Gray"}},
            {"sku": "H1-M-Black", "images": [black], "price": "55", "attributes": {"size": "M", "color": "Black"}},
            {"sku": "H1-L-Black", "images": [black], "price": "50", "attributes": {"size": "L", "color": "Black"}},
            {"sku": "H1-M-Orange", "images": [orange], "attributes": {"size": "M", "color": "Orange"}},
        ],
    )  # fmt: skip
    catalog_dir.add_product(sku="T1", name="Dome tent", categories=["Outdoor/Tents"], price="200", images=[tent],
                            attributes={"color": "Green"})  # fmt: skip
    return catalog_dir.write()


@pytest.fixture
def hoodie_shop(catalog_dir):
    catalog_import(path=write_hoodie_shop(catalog_dir))


def photo_url(source: str) -> str:
    return ProductImage.objects.get(source=source).file.url


def card(api, path="/api/v1/search", **params) -> dict:
    body = api.get(path, params).json()
    return next(item for item in body["results"] if item["sku"] == "H1")


def test_a_colour_filter_shows_that_variants_photo_and_price(api, hoodie_shop):
    plain = card(api, q="hoodie")
    assert plain["photo_url"] == photo_url("images/h1-gray.jpg")
    assert (plain["price"], plain["variant_sku"]) == ("52.00", None)

    black = card(api, q="hoodie", color="Black")
    # the black variants' photo, at the lowest price they sell at, and the first of them
    assert (black["photo_url"], black["price"], black["variant_sku"]) == (
        photo_url("images/h1-black.jpg"), "50.00", "H1-L-Black")  # fmt: skip
    black_m = card(api, q="hoodie", color="Black", size="M")
    assert (black_m["price"], black_m["variant_sku"]) == ("55.00", "H1-M-Black")
    orange = card(api, q="hoodie", color="Orange")
    assert (orange["photo_url"], orange["price"]) == (photo_url("images/h1-orange.jpg"), "52.00")


def test_a_filter_the_main_look_matches_keeps_the_main_card(api, hoodie_shop):
    assert card(api, q="hoodie", color="Gray")["photo_url"] == photo_url("images/h1-gray.jpg")
    # M is sold in every colour, the main one among them
    by_size = card(api, q="hoodie", size="M")
    assert (by_size["photo_url"], by_size["variant_sku"]) == (photo_url("images/h1-gray.jpg"), None)


def test_browsing_with_a_colour_shows_the_variant(api, hoodie_shop):
    browsed = card(api, color="Black")
    assert browsed["photo_url"] == photo_url("images/h1-black.jpg") and browsed["variant_sku"] == "H1-L-Black"
    assert card(api, category="Men")["variant_sku"] is None


def test_a_photo_search_with_a_colour_shows_the_variant(api, hoodie_shop):
    build_generation()
    response = api.post(
        "/api/v1/search/image?color=Black",
        {"image": SimpleUploadedFile("query.jpg", jpeg_bytes(size=(48, 64), color=BLACK), "image/jpeg")},
    )
    assert response.status_code == 200, response.content
    found = {item["sku"]: item for item in response.json()["results"]}
    assert found["H1"]["photo_url"] == photo_url("images/h1-black.jpg") and found["H1"]["variant_sku"] == "H1-L-Black"


def test_matching_looks_compare_values_without_case_and_ignore_other_attributes():
    looks = [
        {"sku": "A-1", "photo": "black.jpg", "price": "10.00", "attributes": {"color": ["Black"], "size": ["S"]}},
        {"sku": "A-2", "photo": "red.jpg", "price": "12.00", "attributes": {"color": ["Red"], "size": ["S", "M"]}},
    ]
    assert matching_look(looks, [("color", "red")], photo="main.jpg", price="10.00")["sku"] == "A-2"
    # an attribute no variant has (material) does not stop the colour from choosing
    both = [("material", "Wool"), ("color", "Red")]
    assert matching_look(looks, both, photo="main.jpg", price="10.00")["sku"] == "A-2"
    assert matching_look(looks, [("material", "Wool")], photo="main.jpg", price="10.00") is None
    assert matching_look(looks, [("color", "Blue")], photo="main.jpg", price="10.00") is None
    assert matching_look(looks, [("size", "S")], photo="black.jpg", price="10.00") is None  # the main look matches
