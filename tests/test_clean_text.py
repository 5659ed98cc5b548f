"""Clean text: product and variant names, brands, attribute values and categories are plain text at import
(entities unescaped, tags stripped), rows imported before are cleaned by a data migration, and what the API, the
cards and the full-text index say is the clean text."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps
from django.db import connection

from catalog.models import Category, Product, ProductCategory, Variant
from catalog.records import RecordError, clean_text, parse_product
from catalog.services import catalog_import
from search.documents import search_documents_update
from search.models import SearchDocument
from search.selectors import search_products
from search.types import SearchQuery

from .factories import ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db

clean_texts_migration = importlib.import_module("catalog.migrations.0005_clean_texts")


def test_clean_text_unescapes_entities_and_strips_tags():
    assert clean_text("Helios EverCool&trade; Tee") == "Helios EverCool™ Tee"
    assert clean_text("Gobi HeatTec&reg; Tee") == "Gobi HeatTec® Tee"
    assert clean_text("Logan  HeatTec&reg;  Tee ") == "Logan HeatTec® Tee"  # runs of spaces made one
    assert clean_text("Salt &amp;amp; Pepper") == "Salt & Pepper"  # escaped twice
    assert clean_text("<b>Bold</b> <span class='x'>tee</span><br/>") == "Bold tee"
    assert clean_text("Caf&eacute; &lt;3") == "Café <3"  # an escaped "<" that is no tag stays
    assert clean_text("Sizes <10 and >5") == "Sizes <10 and >5"  # not a tag
    assert clean_text("a\tb\nc\x00d") == "a b c d"
    assert clean_text("<!-- hidden -->Tee") == "Tee"


def test_a_record_is_clean_text():
    record = parse_product({
        "sku": "T1", "name": "Helios EverCool&trade; <i>Tee</i>", "brand": "Luma &amp; Co",
        "categories": ["Bags &amp; Packs/Totes"], "attributes": {"material": ["Cotton &amp; Lyocell"]},
        "variants": [{"sku": "T1-B", "attributes": {"color": "Black &amp; White"}}],
    })  # fmt: skip
    assert record.name == "Helios EverCool™ Tee"
    assert record.brand == "Luma & Co"
    assert record.categories == ["Bags & Packs/Totes"]
    assert record.attributes == {"material": ["Cotton & Lyocell"]}
    assert record.variants[0].attributes == {"color": "Black & White"}
    with pytest.raises(RecordError, match="empty once its markup is removed"):
        parse_product({"sku": "T2", "name": "<b></b>"})


def test_imported_names_are_clean_in_the_api_the_cards_and_the_index(api, catalog_dir):
    catalog_dir.add_product(sku="T1", name="Helios EverCool&trade; Tee", brand="Luma", categories=["Men/Tees"],
                            attributes={"color": "Blue"})  # fmt: skip
    catalog_import(path=catalog_dir.write())

    assert api.get("/api/v1/products/T1").json()["name"] == "Helios EverCool™ Tee"
    assert api.get("/api/v1/products").json()["results"][0]["name"] == "Helios EverCool™ Tee"
    found = api.get("/api/v1/search", {"q": "evercool"}).json()
    assert [item["name"] for item in found["results"]] == ["Helios EverCool™ Tee"]
    document = SearchDocument.objects.get(product__sku="T1")
    assert document.card["name"] == "Helios EverCool™ Tee"
    with connection.cursor() as cursor:
        cursor.execute("SELECT tsvector_to_array(document) FROM search_searchdocument WHERE product_id = %s",
                       [document.product_id])  # fmt: skip
        lexemes = cursor.fetchone()[0]
    assert "evercool" in lexemes and "trade" not in lexemes


def test_the_data_migration_cleans_rows_imported_before(django_capture_on_commit_callbacks):
    # given rows as an older import stored them (written directly, as it did)
    bags = Category.objects.create(path="Bags &amp; Packs", name="Bags &amp; Packs", depth=0)
    totes = Category.objects.create(path="Bags &amp; Packs/Totes", name="Totes", depth=1, parent=bags)
    product = ProductFactory(name="Helios EverCool&trade; Tee", brand="Luma &amp; Co", primary_category=totes,
                             attributes={"material": ["Cotton &amp; Lyocell"], "new": "Yes"})  # fmt: skip
    ProductCategory.objects.create(product=product, category=totes)
    VariantFactory(product=product, sku="V1", attributes={"color": "Black &amp; White"})
    untouched = ProductFactory(name="Plain tee", attributes={"color": "Red"})
    Product.objects.filter(pk__in=[product.pk, untouched.pk]).update(embeddings_stale=False)
    search_documents_update()
    versions = dict(Product.objects.values_list("pk", "content_version"))

    # when the migration runs
    changed = clean_texts_migration.clean_catalog_texts(django_apps)

    # then the texts are clean, the product is re-embedded and its document rebuilt; the clean product is untouched
    assert changed == [product.pk]
    product.refresh_from_db()
    assert product.name == "Helios EverCool™ Tee" and product.brand == "Luma & Co"
    assert product.attributes == {"material": ["Cotton & Lyocell"], "new": "Yes"}
    assert Variant.objects.get(sku="V1").attributes == {"color": "Black & White"}
    assert sorted(Category.objects.values_list("path", flat=True)) == ["Bags & Packs", "Bags & Packs/Totes"]
    assert product.embeddings_stale and product.content_version == versions[product.pk] + 1
    untouched.refresh_from_db()
    assert not untouched.embeddings_stale and untouched.content_version == versions[untouched.pk]
    card = SearchDocument.objects.get(product=product).card
    assert card["name"] == "Helios EverCool™ Tee" and card["category"] == "Bags & Packs/Totes"
    assert "category=Bags & Packs/Totes" in SearchDocument.objects.get(product=product).facets
    assert search_products(SearchQuery(text="evercool"), None).products[0]["name"] == "Helios EverCool™ Tee"
    # and a second run finds nothing left to clean
    assert clean_texts_migration.clean_catalog_texts(django_apps) == []


def test_the_data_migration_leaves_a_category_whose_clean_path_is_taken():
    Category.objects.create(path="Bags & Packs", name="Bags & Packs", depth=0)
    Category.objects.create(path="Bags &amp; Packs", name="Bags &amp; Packs", depth=0)

    clean_texts_migration.clean_catalog_texts(django_apps)

    assert sorted(Category.objects.values_list("path", flat=True)) == ["Bags & Packs", "Bags &amp; Packs"]
