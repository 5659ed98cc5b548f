"""Storefront search: ranking, filters, facets, typos, photo search, similar items, cache, limits and errors."""

import base64
import io
import json
import logging
from decimal import Decimal

import numpy as np
import pytest
from django.conf import settings as django_settings
from django.db import connection
from PIL import Image
from rest_framework.authtoken.models import Token

from catalog.models import Category, Product, ProductCategory, Variant
from catalog.services import catalog_import
from embeddings.indexes import indexes_create
from embeddings.models import EmbeddingGeneration, ImageEmbedding, Job, ProductEmbedding, TrainedHead
from embeddings.neural.head import AlignmentHead
from embeddings.queries import PhotoQuery
from search import candidates, facets, selectors
from search.documents import search_documents_update
from search.filters import Filters
from search.models import SearchDocument, SearchEvent, SearchLog
from search.ranking import FusionConfig, Scale, fuse
from search.selectors import search_products
from search.services import search_logs_flush
from search.types import Document, SearchQuery

from .conftest import build_generation, jpeg_bytes, write_small_catalog
from .factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_shop(catalog_dir):
    """16 products (4 kinds x 4 colours) with photos, reviews and an active generation (tiny encoders)."""
    catalog_dir.add_review(sku="TEN-RED", rating=5, title="Great tent", body="Dry all night", author="A")
    catalog_dir.add_review(sku="TEN-RED", rating=4, title="Roomy", body="", author="B")
    catalog_dir.add_review(sku="JAC-BLU", rating=2, title="Thin", body="", author="C")
    catalog_import(path=write_small_catalog(catalog_dir))
    Product.objects.filter(sku__startswith="BOT").update(in_stock=False)
    search_documents_update()  # the services do it for every write; this fixture wrote behind their back
    return build_generation()


# --- ranking on a hand-made catalog with tiny vectors ----------------------------------------------------------


def tiny_generation(vectors: dict[str, dict[str, list[float]]]) -> EmbeddingGeneration:
    """A generation whose rows are the given 2-d vectors (text, image, joint spaces all 2-d)."""
    head = TrainedHead.objects.create(
        encoder_spec={"backend": "default", "text": "hashing", "image": "pixel-stats"},
        weights=AlignmentHead.identity(2).to_bytes(),
        joint_dim=2,
    )
    generation = EmbeddingGeneration.objects.create(
        state="active", encoder_spec=head.encoder_spec, head=head, image_weight=0.5, text_weight=0.5,
        text_dim=2, image_dim=2, joint_dim=2,
    )  # fmt: skip
    for sku, v in vectors.items():
        product = ProductFactory(sku=sku, name=f"Product {sku}")
        ProductEmbedding.objects.create(
            generation=generation, product=product, text_vector=v["text"], image_vector=v["joint"],
            aligned_text=v["joint"], aligned_image=v["joint"], fused=v["joint"], content_version=1,
        )  # fmt: skip
    indexes_create(generation)
    search_documents_update()  # what the catalog services do for every product they write
    return generation


def lantern_catalog(monkeypatch) -> EmbeddingGeneration:
    """Three products whose text and joint vectors point in known directions; only C's name contains "lantern";
    every query's text vector is [1, 0] and its joint vector [0.6, 0.8]."""
    generation = tiny_generation({
        "A": {"text": [1, 0], "joint": [0, 1]},
        "B": {"text": [0.8, 0.6], "joint": [0.6, 0.8]},
        "C": {"text": [0, 1], "joint": [1, 0]},
    })  # fmt: skip
    Product.objects.filter(sku="C").update(name="Trail lantern")
    search_documents_update()
    monkeypatch.setattr(candidates, "query_text_vectors", lambda g, t: (np.array([1.0, 0]), np.array([0.6, 0.8])))
    return generation


def test_exact_order_of_a_hybrid_search_on_tiny_vectors(monkeypatch):
    # given three products with known vectors, and a query that only C's name matches
    generation = lantern_catalog(monkeypatch)
    config = FusionConfig(
        method="rrf", weights={"fulltext": 1, "text_vector": 1, "cross_modal": 0, "fused": 1}, rrf_k=1
    )

    result = search_products(SearchQuery(text="lantern", page_size=10, fusion=config), generation)

    # then: text_vector ranks A, B, C; fused ranks B, A, C; fulltext ranks C only.
    # RRF (k=1): A = 1/2 + 1/3 = .833, B = 1/3 + 1/2 = .833, C = 1/4 + 1/4 + 1/2 = 1.0 -> C, then A/B by id
    assert [p["sku"] for p in result.products] == ["C", "A", "B"]
    assert result.ranking[0].signals["fulltext"][0] == 1
    assert result.ranking[1].signals == {
        "text_vector": (1, pytest.approx(1.0, abs=1e-3)),
        "cross_modal": (2, pytest.approx(0.8, abs=1e-3)),  # listed for explain, weight 0
        "fused": (2, pytest.approx(0.8, abs=1e-3)),
    }
    assert result.total == 3


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_full_text_statement_runs_beside_the_vector_statement(
    monkeypatch, settings, django_assert_num_queries
):
    # given the lantern catalog committed (no test transaction: another connection can see it)
    generation = lantern_catalog(monkeypatch)
    config = FusionConfig(method="rrf", weights={"fulltext": 1, "text_vector": 1, "fused": 1}, rrf_k=1)
    query = SearchQuery(text="lantern", page_size=10, fusion=config)
    settings.SEARCH_PARALLEL_STATEMENTS = False
    search_products(query, generation)  # the first search of a process also reads the spelling vocabulary
    with django_assert_num_queries(2):  # full text, then vectors, on this connection
        serial = search_products(query, generation)
    settings.SEARCH_PARALLEL_STATEMENTS = True
    try:
        with django_assert_num_queries(1):  # the vector statement here; the full-text one on the search thread's
            parallel = search_products(query, generation)
    finally:  # the search thread's connection would keep the test database from being dropped
        candidates.search_thread_connection_close()

    assert [p["sku"] for p in parallel.products] == [p["sku"] for p in serial.products] == ["C", "A", "B"]
    assert parallel.ranking == serial.ranking and parallel.facets == serial.facets and parallel.total == 3


def test_weighted_fusion_calibrates_each_signal():
    lists = {"fulltext": [(1, 0.9), (2, 0.1)], "fused": [(2, 0.7), (1, 0.6), (3, 0.5)]}
    scales = {"fused": Scale(floor=0.5, threshold=0.55, typical=0.7)}
    ranking = fuse(lists, FusionConfig(method="weighted", weights={"fulltext": 1.0, "fused": 2.0}), scales)
    # full text relative to its best match (0.9 -> 1, 0.1 -> 0.111); cosines on the signal's absolute scale:
    # 0 at its floor (0.5), 1 at a typical match (0.7): 0.7 -> 1, 0.6 -> 0.5, 0.5 -> 0
    # 1: 1.0 + 2 * 0.5 = 2.0; 2: 0.111 + 2 * 1.0 = 2.111; 3: 2 * 0 = 0
    assert [(r.product_id, round(r.score, 3)) for r in ranking] == [(2, 2.111), (1, 2.0), (3, 0.0)]


def test_photo_search_ranks_by_photos_and_fused_vectors_on_tiny_vectors():
    generation = tiny_generation({
        "A": {"text": [1, 0], "joint": [1, 0]},
        "B": {"text": [1, 0], "joint": [0.7071, 0.7071]},
        "C": {"text": [1, 0], "joint": [0, 1]},
    })  # fmt: skip
    query = PhotoQuery(image_vector=np.array([0, 1.0]), joint_vector=np.array([0, 1.0]))
    config = FusionConfig(method="rrf", weights={"fused": 1, "cross_modal": 1}, rrf_k=60)
    result = search_products(SearchQuery(photo=query, page_size=10, fusion=config), generation)
    # A (cosine 0) is below the relevance threshold (0.5 for an uncalibrated generation): it does not match
    assert [p["sku"] for p in result.products] == ["C", "B"] and result.total == 2


# --- filters, facets, browse ------------------------------------------------------------------------------------


def every_result(api, params: dict) -> tuple[list[str], dict]:
    """Every sku of a search, page after page, and the first page's body."""
    first = api.get("/api/v1/search", {**params, "page_size": 100}).json()
    skus = [item["sku"] for item in first["results"]]
    assert len(skus) == first["total"]  # one page holds them all here
    return skus, first


def test_total_and_facets_are_those_of_the_whole_match_set(api, small_shop):
    # given the 16-product shop: four tents, and a query that names them
    skus, body = every_result(api, {"q": "tent", "category": "Outdoor"})
    page = api.get("/api/v1/search", {"q": "tent", "category": "Outdoor", "page_size": 3}).json()

    # then every tent matches, the total counts the match set (not the page), and the facets count exactly it
    assert {sku for sku in skus if sku.startswith("TEN")} == {"TEN-RED", "TEN-BLU", "TEN-GRE", "TEN-YEL"}
    assert page["total"] == body["total"] == len(skus) and len(page["results"]) == 3
    assert page["facets"] == body["facets"]
    truth: dict[str, int] = {}
    for document in SearchDocument.objects.filter(product__sku__in=skus):
        for value in document.facets:
            truth[value] = truth.get(value, 0) + 1
    shown = {f"{name}={row['value']}": row["count"] for name in ("category", "color") for row in body["facets"][name]}
    assert shown == {key: count for key, count in truth.items() if key.split("=")[0] in ("category", "color")}
    assert sum(row["count"] for row in body["facets"]["color"]) == len(skus)  # one colour each


def test_filters_narrow_every_signal_and_the_facets(api, small_shop):
    body = api.get("/api/v1/search", {"q": "tent", "color": "Red", "in_stock": "true", "page_size": 20}).json()
    assert {item["sku"] for item in body["results"]} <= {"TEN-RED", "JAC-RED", "HOO-RED"}
    assert {row["value"] for row in body["facets"]["color"]} == {"Red"}
    body = api.get("/api/v1/search", {"q": "bottle", "in_stock": "true"}).json()
    assert not [item for item in body["results"] if item["sku"].startswith("BOT")]
    body = api.get("/api/v1/search", {"q": "tent", "rating_min": "4"}).json()
    assert [item["sku"] for item in body["results"]] == ["TEN-RED"]
    assert body["results"][0]["rating"] == {"average": 4.5, "count": 2}


def test_empty_query_browses_the_category_with_its_descendants(api, small_shop):
    body = api.get("/api/v1/search", {"category": "Outdoor/Tents", "page_size": 2}).json()
    assert body["total"] == 4 and len(body["results"]) == 2
    assert {row["value"]: row["count"] for row in body["facets"]["category"]}["Outdoor/Tents"] == 4
    second = api.get("/api/v1/search", {"category": "Outdoor/Tents", "page_size": 2, "page": 2}).json()
    assert {i["sku"] for i in body["results"] + second["results"]} == {"TEN-RED", "TEN-BLU", "TEN-GRE", "TEN-YEL"}
    assert api.get("/api/v1/search", {"category": "Outdoor", "page_size": 1}).json()["total"] == 16


def test_attribute_filters_match_variants_too(api, small_shop):
    product = Product.objects.get(sku="TEN-BLU")
    Variant.objects.create(product=product, sku="TEN-BLU-XL", attributes={"size": "XL"})
    body = api.get("/api/v1/search", {"size": "XL"}).json()
    assert [item["sku"] for item in body["results"]] == ["TEN-BLU"]


def test_a_one_percent_filter_still_returns_k_results():
    # given 1000 products with random 8-d vectors and HNSW indexes; 1% carry a rare attribute
    rng = np.random.default_rng(3)
    head = TrainedHead.objects.create(encoder_spec={}, weights=AlignmentHead.identity(8).to_bytes(), joint_dim=8)
    generation = EmbeddingGeneration.objects.create(
        state="active", encoder_spec={}, head=head, image_weight=0.5, text_weight=0.5, text_dim=8, image_dim=8,
        joint_dim=8,
    )  # fmt: skip
    products = Product.objects.bulk_create(
        [Product(sku=f"P{i:04d}", name=f"Item {i}", attributes={"collection": "Rare"} if i % 100 == 7 else {})
         for i in range(1000)]
    )  # fmt: skip
    vectors = rng.normal(size=(1000, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ProductEmbedding.objects.bulk_create(
        [ProductEmbedding(generation=generation, product=p, text_vector=v, image_vector=v, aligned_text=v,
                          aligned_image=v, fused=v, content_version=1) for p, v in zip(products, vectors, strict=True)]
    )  # fmt: skip
    indexes_create(generation)
    search_documents_update()
    # every candidate counts as a match here: the test is about the filter, not relevance
    generation.relevance = {"signals": {"photo:fused": {"floor": -1.0, "threshold": -1.0, "typical": 1.0}}}
    generation.save(update_fields=["relevance"])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE embeddings_productembedding; ANALYZE catalog_product")
    query = PhotoQuery(image_vector=vectors[0], joint_vector=vectors[0])
    config = FusionConfig(method="rrf", weights={"fused": 1.0}, rrf_k=60)
    filters = Filters(attributes=(("collection", "Rare"),))

    result = search_products(SearchQuery(photo=query, filters=filters, page_size=10, fusion=config), generation)

    assert len(result.products) == 10 and result.total == 10
    assert {p["sku"] for p in result.products} == {f"P{i:04d}" for i in range(7, 1000, 100)}


# --- typos ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("query", "kind"), [("hodie", "HOO"), ("jaket", "JAC"), ("tnet", "TEN"), ("botle", "BOT")])
def test_typo_queries_still_find_the_products(api, small_shop, query, kind):
    body = api.get("/api/v1/search", {"q": query, "page_size": 6}).json()
    skus = [item["sku"] for item in body["results"]]
    assert skus[0].startswith(kind)
    assert len([sku for sku in skus if sku.startswith(kind)]) == 4  # all four colours of it on the first page
    assert body["corrected_query"] != query


# --- similar items ----------------------------------------------------------------------------------------------


def test_similar_items_exclude_the_product_and_its_variants(api, small_shop):
    Variant.objects.create(product=Product.objects.get(sku="TEN-RED"), sku="TEN-RED-L", attributes={"size": "L"})
    body = api.get("/api/v1/products/TEN-RED/similar", {"k": 5, "explain": "1"}).json()
    skus = [item["sku"] for item in body["results"]]
    assert len(skus) == 5 and "TEN-RED" not in skus and "TEN-RED-L" not in skus
    assert all("explain" in item for item in body["results"])
    same = api.get("/api/v1/products/TEN-RED/similar", {"k": 10, "same_category": "1"}).json()
    assert {item["sku"] for item in same["results"]} == {"TEN-BLU", "TEN-GRE", "TEN-YEL"}
    in_stock = api.get("/api/v1/products/TEN-RED/similar", {"k": 15, "in_stock": "true"}).json()
    assert not [item for item in in_stock["results"] if item["sku"].startswith("BOT")]
    assert api.get("/api/v1/products/NOPE/similar").status_code == 404
    assert api.get("/api/v1/products/TEN-RED/similar", {"k": 500}).status_code == 400


def test_similar_items_weigh_the_catalogs_own_categories_on_top_of_the_fused_vector(api, small_shop, settings):
    from recommendations.selectors import similar_ranking

    product = Product.objects.get(sku="TEN-RED")

    def top(k: int = 3) -> list[str]:
        ranking = similar_ranking(product=product, generation=small_shop, k=k, same_category=False, in_stock=None)
        return list(Product.objects.filter(id__in=[r.product_id for r in ranking]).values_list("sku", flat=True))

    # the fused vector alone: the red things (a red jacket looks more like a red tent than a blue tent does)
    settings.SIMILAR_SIGNAL_WEIGHTS = {**settings.SIMILAR_SIGNAL_WEIGHTS, "category": 0.0}
    alone = top()
    assert sorted(alone) == ["BOT-RED", "HOO-RED", "JAC-RED"]
    # with the closeness of the catalog's categories weighted on top (strongly here: the tiny test encoders see
    # little but colour): the other tents first, still in the fused vector's order
    settings.SIMILAR_SIGNAL_WEIGHTS = {**settings.SIMILAR_SIGNAL_WEIGHTS, "category": 2.0}
    assert sorted(top()) == ["TEN-BLU", "TEN-GRE", "TEN-YEL"]


def test_similar_items_put_the_same_kind_at_the_same_price_or_a_step_up_before_cheaper_ones(settings):
    from recommendations.selectors import similar_ranking

    # given a tent, a slightly closer cheaper tent, a dearer tent and a dearer jacket closest of all
    generation = tiny_generation({
        "TENT": {"text": [1, 0], "joint": [1, 0]},
        "CHEAP-TENT": {"text": [1, 0], "joint": [0.985, 0.174]},  # 10 degrees off
        "DEAR-TENT": {"text": [1, 0], "joint": [0.966, 0.259]},  # 15 degrees off
        "DEAR-JACKET": {"text": [1, 0], "joint": [1, 0.01]},
    })  # fmt: skip
    tents = Category.objects.create(path="Gear/Tents", name="Tents", depth=1)
    jackets = Category.objects.create(path="Men/Jackets", name="Jackets", depth=1)
    for sku, price, category in [("TENT", "100", tents), ("CHEAP-TENT", "80", tents), ("DEAR-TENT", "120", tents),
                                 ("DEAR-JACKET", "300", jackets)]:  # fmt: skip
        Product.objects.filter(sku=sku).update(price=Decimal(price), currency="USD", primary_category=category)
    product = Product.objects.select_related("primary_category").get(sku="TENT")
    skus = dict(Product.objects.values_list("id", "sku"))

    def order(**weights: float) -> list[str]:
        ranking = similar_ranking(product=product, generation=generation, k=3, same_category=False, in_stock=None,
                                  weights=weights, relevance_weight=1.0)  # fmt: skip
        return [skus[r.product_id] for r in ranking]

    # when the price tier is off, the fused vector and the categories decide; then it is on (the default)
    assert order(price=0.0) == ["CHEAP-TENT", "DEAR-TENT", "DEAR-JACKET"]
    assert settings.SIMILAR_SIGNAL_WEIGHTS["price"] > 0
    # then the dearer tent comes first; the dearer jacket gains nothing from its price (another kind)
    assert order() == ["DEAR-TENT", "CHEAP-TENT", "DEAR-JACKET"]
    # a price in another currency is no evidence either way: the tier of the product's own price
    Product.objects.filter(sku="DEAR-TENT").update(currency="EUR")
    ranking = similar_ranking(product=product, generation=generation, k=3, same_category=False, in_stock=None)
    assert {skus[r.product_id]: r.signals.get("price", (0, 0.0))[1] for r in ranking} == {
        "DEAR-TENT": 0.5, "CHEAP-TENT": 0.0, "DEAR-JACKET": 0.0,
    }  # fmt: skip


def test_price_tier_is_half_at_the_same_price_and_saturates_a_tenth_away():
    from recommendations.selectors import price_tier

    assert price_tier(100.0, 100.0) == 0.5
    assert price_tier(110.0, 100.0) == pytest.approx(1.0) and price_tier(300.0, 100.0) == 1.0
    assert price_tier(100.0 / 1.1, 100.0) == pytest.approx(0.0) and price_tier(50.0, 100.0) == 0.0
    assert 0.5 < price_tier(104.0, 100.0) < price_tier(108.0, 100.0) < 1.0
    assert price_tier(None, 100.0) == 0.5  # no price in the product's currency: no evidence
    assert (price_tier(5.0, 0.0), price_tier(0.0, 0.0), price_tier(0.0, 5.0)) == (1.0, 0.5, 0.0)


def test_similar_items_are_stored_and_served_from_the_stored_list(api, small_shop, django_assert_max_num_queries):
    from recommendations.models import SimilarList

    first = api.get("/api/v1/products/TEN-RED/similar", {"k": 10, "explain": "1"})
    assert first["X-Similar-Source"] == "computed"
    assert SimilarList.objects.filter(product__sku="TEN-RED", generation=small_shop).count() == 1
    with django_assert_max_num_queries(1):  # the stored list's head (current vectors only) with its cards
        again = api.get("/api/v1/products/TEN-RED/similar", {"k": 10, "explain": "1"})
    assert again["X-Similar-Source"] == "stored"
    assert again.json()["results"] == first.json()["results"]
    # every k's answer is a prefix of a longer one, stored or computed
    three = api.get("/api/v1/products/TEN-RED/similar", {"k": 3}).json()["results"]
    assert [item["sku"] for item in three] == [item["sku"] for item in first.json()["results"][:3]]
    # filters are computed live
    assert api.get("/api/v1/products/TEN-RED/similar", {"in_stock": "true"})["X-Similar-Source"] == "computed"


def test_a_stored_similar_list_is_replaced_when_the_product_is_embedded_again(api, small_shop):
    from recommendations.models import SimilarList

    api.get("/api/v1/products/TEN-RED/similar", {"k": 5})
    ProductEmbedding.objects.filter(product__sku="TEN-RED", generation=small_shop).update(content_version=99)
    assert api.get("/api/v1/products/TEN-RED/similar", {"k": 5})["X-Similar-Source"] == "computed"
    assert SimilarList.objects.get(product__sku="TEN-RED", generation=small_shop).content_version == 99
    assert api.get("/api/v1/products/TEN-RED/similar", {"k": 5})["X-Similar-Source"] == "stored"


def test_a_stored_similar_list_skips_deleted_products(api, small_shop):
    before = [item["sku"] for item in api.get("/api/v1/products/TEN-RED/similar", {"k": 5}).json()["results"]]
    Product.objects.filter(sku=before[1]).delete()
    after = api.get("/api/v1/products/TEN-RED/similar", {"k": 5})
    assert after["X-Similar-Source"] == "stored"
    skus = [item["sku"] for item in after.json()["results"]]
    assert len(skus) == 5 and before[1] not in skus and skus[:1] + skus[1:4] == [before[0]] + before[2:5]


def test_similar_lists_build_covers_every_embedded_product(small_shop):
    from recommendations.models import SimilarList
    from recommendations.services import similar_lists_build
    from recommendations.tasks import build_similar_lists_task

    seen = []
    assert similar_lists_build(generation=small_shop, progress=lambda done, total: seen.append((done, total))) == 16
    assert seen[-1] == (16, 16)
    assert SimilarList.objects.filter(generation=small_shop).count() == 16
    assert similar_lists_build(generation=small_shop, only_missing=True) == 0
    ids = sorted(SimilarList.objects.values_list("product_id", flat=True))
    SimilarList.objects.all().delete()
    assert similar_lists_build(generation=small_shop, id_range=(ids[0], ids[7])) == 8  # one process's share
    assert similar_lists_build(generation=small_shop, only_missing=True, id_range=(ids[8], ids[-1])) == 8
    ProductEmbedding.objects.filter(product__sku="JAC-RED", generation=small_shop).update(content_version=7)
    assert build_similar_lists_task(only_missing=True) == 1  # the active generation, one product out of date
    job = Job.objects.filter(kind=Job.Kind.SIMILAR).latest("id")  # what the operations page shows
    assert (job.state, job.done, job.total, job.percent, job.generation_id) == ("done", 1, 1, 100.0, small_shop.pk)
    lists = SimilarList.objects.filter(generation=small_shop)
    assert all(len(row.items) == 15 and row.product_id not in [i[0] for i in row.items] for row in lists)


def test_similar_items_are_diversified():
    from recommendations.selectors import diversify
    from search.ranking import Ranked

    vectors = {1: np.array([1.0, 0]), 2: np.array([1.0, 0]), 3: np.array([0.0, 1.0])}
    ranking = [Ranked(1, 0.9, {}), Ranked(2, 0.89, {}), Ranked(3, 0.8, {})]
    assert [r.product_id for r in diversify(ranking, vectors, k=2, relevance_weight=0.5)] == [1, 3]
    assert [r.product_id for r in diversify(ranking, vectors, k=2, relevance_weight=1.0)] == [1, 2]
    assert [r.product_id for r in diversify(ranking, vectors, k=3, relevance_weight=0.5)] == [1, 3, 2]
    # a candidate without a fused vector (found by the image or text signal only) takes no penalty
    assert [r.product_id for r in diversify(ranking, {1: vectors[1], 3: vectors[3]}, k=2, relevance_weight=0.5)] == [
        1,
        2,
    ]
    assert diversify([], vectors, k=3, relevance_weight=0.5) == []


# --- cache ------------------------------------------------------------------------------------------------------


def test_cache_hit_and_invalidation_when_a_product_in_it_changes(api, small_shop, catalog_dir,
                                                                 django_capture_on_commit_callbacks):  # fmt: skip
    params = {"q": "red tent", "page_size": 5}
    first = api.get("/api/v1/search", params)
    assert first["X-Cache"] == "MISS"
    second = api.get("/api/v1/search", params)
    assert second["X-Cache"] == "HIT" and second["Content-Type"] == "application/json"
    missed, hit = first.json(), second.json()  # the whole answer, sent from the cache as stored
    assert missed.pop("search_id") != hit.pop("search_id") and hit == missed
    assert api.get("/api/v1/search", {**params, "page": 2})["X-Cache"] == "MISS"  # the page is part of the key

    # when a product in the cached result changes (through the import, committed)
    sku = first.json()["results"][0]["sku"]
    catalog_dir.product_lines = [
        line.replace('"name": "Red tent"', '"name": "Red tent, storm edition"') for line in catalog_dir.product_lines
    ]
    with django_capture_on_commit_callbacks(execute=True):
        catalog_import(path=catalog_dir.write())

    # then the cached result is gone at once and the new name shows
    third = api.get("/api/v1/search", params)
    assert sku == "TEN-RED" and third["X-Cache"] == "MISS"
    assert "Red tent, storm edition" in [item["name"] for item in third.json()["results"]]


def test_search_answers_without_redis_and_logs_it(api, small_shop, settings, caplog):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    import search.cache as search_cache

    search_cache._last_warning = 0.0
    with caplog.at_level(logging.WARNING, logger="search.cache"):
        response = api.get("/api/v1/search", {"q": "blue jacket"})
    assert response.status_code == 200 and response["X-Cache"] == "MISS"
    assert response.json()["results"]
    assert "search cache unavailable" in caplog.text
    # and its log row was written directly
    assert SearchLog.objects.filter(query="blue jacket").exists()


class _StallingProxy:
    """A TCP proxy in front of the test Redis that leaves the next ``stall`` connections unanswered (a Redis too
    busy to answer in time), and forwards every other one."""

    def __init__(self, target: tuple[str, int]):
        import socket
        import threading

        self.target, self.stall, self.stalled = target, 0, 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.held: list = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import socket
        import threading

        while True:
            try:
                incoming, _ = self.listener.accept()
            except OSError:
                return
            if self.stall:
                self.stall -= 1
                self.stalled += 1
                self.held.append(incoming)  # read from by no one, answered never
                continue
            outgoing = socket.create_connection(self.target)
            for source, sink in ((incoming, outgoing), (outgoing, incoming)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source, sink) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            sink.close()

    def close(self) -> None:
        self.listener.close()
        for sock in self.held:
            sock.close()


def test_a_cache_invalidation_that_redis_does_not_answer_in_time_is_retried(small_shop, settings, monkeypatch):
    from urllib.parse import urlsplit

    import search.cache as search_cache

    url = urlsplit(settings.REDIS_URL)
    proxy = _StallingProxy((url.hostname, url.port or 6379))
    try:
        settings.REDIS_URL = url._replace(netloc=f"127.0.0.1:{proxy.port}").geturl()
        monkeypatch.setattr(search_cache, "WRITE_TIMEOUT_SECONDS", 0.3)
        product = Product.objects.get(sku="TEN-RED")
        key = search_cache.cache_key({"q": "red tent"}, None)
        search_cache.cache_result(key, {"total": 1, "results": [{"sku": "TEN-RED"}]}, [product.pk])
        assert search_cache.cached_result(key) is not None

        proxy.stall = 1  # the invalidation's first connection gets no answer
        assert search_cache.search_cache_invalidate_products(product_ids=[product.pk]) == 1
        assert proxy.stalled == 1
        assert search_cache.cached_result(key) is None
    finally:
        proxy.close()


def test_popular_queries_are_counted_and_warmed_for_a_new_generation(api, small_shop):
    from search.cache import cache_key, cached_result, popular_requests
    from search.warming import cache_warm

    for _ in range(3):
        api.get("/api/v1/search", {"q": "Yellow  Tent"})
    api.get("/api/v1/search", {"q": "green bottle"})
    popular = popular_requests(5)
    assert [request["q"] for request, _ in popular] == ["yellow tent", "green bottle"]
    assert popular[0][1] == pytest.approx(3.0, rel=1e-3)

    new = build_generation(activate=False)
    assert cache_warm(new) == 2
    assert cached_result(cache_key(popular[0][0], new.pk))["results"]


# --- search log and events --------------------------------------------------------------------------------------


def test_searches_are_logged_and_events_refer_to_them(api, small_shop):
    response = api.get("/api/v1/search", {"q": "green hoodie", "color": "Green"})
    search_id = response.json()["search_id"]
    assert search_logs_flush() == 1
    log = SearchLog.objects.get(pk=search_id)
    assert (log.kind, log.query, log.filters, log.cache_hit) == (
        "text",
        "green hoodie",
        {"attributes": [["color", "Green"]]},
        False,
    )
    assert log.result_count == response.json()["total"] and log.latency_ms > 0
    hit = api.get("/api/v1/search", {"q": "green hoodie", "color": "Green"})  # sent as stored, never parsed
    assert hit["X-Cache"] == "HIT" and search_logs_flush() == 1
    hit_log = SearchLog.objects.get(pk=hit.json()["search_id"])
    assert (hit_log.cache_hit, hit_log.result_count) == (True, log.result_count)

    event = api.post("/api/v1/events", {"search_id": search_id, "type": "click", "sku": "HOO-GRE", "position": 1},
                     content_type="application/json")  # fmt: skip
    assert event.status_code == 201
    assert SearchEvent.objects.get().search_id == log.pk
    bad = api.post(
        "/api/v1/events", {"search_id": "nope", "type": "purchase", "sku": "X"}, content_type="application/json"
    )
    assert bad.status_code == 400 and set(bad.json()) >= {"search_id", "type"}

    # events refer to real searches and their results only (made-up ones would skew click-through)
    def event(**fields):
        body = {"search_id": search_id, "type": "click", "sku": "HOO-GRE", **fields}
        return api.post("/api/v1/events", body, content_type="application/json")

    made_up = event(search_id="00000000-0000-4000-8000-000000000000")
    assert made_up.status_code == 400 and "search_id" in made_up.json()
    not_served = event(sku="TEN-RED")
    assert not_served.status_code == 400 and not_served.json()["sku"] == ["not among that search's results"]
    assert event(search_id=hit.json()["search_id"]).status_code == 201  # a cache hit's results count as served
    assert SearchEvent.objects.count() == 2


# --- limits and errors ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": "x" * 257}, "q"),
        ({"q": "tent", "colour": "red"}, "colour"),
        ({"q": "tent", "price_min": "cheap"}, "price_min"),
        ({"q": "tent", "page_size": "101"}, "page_size"),
        ({"q": "tent", "page": "0"}, "page"),
        ({"q": "tent", "price_min": "50", "price_max": "10"}, "price_max"),
        ({"q": "tent", "w_fused": "3"}, "fusion"),
    ],
)
def test_bad_search_parameters_get_400_with_field_errors(api, small_shop, params, field):
    response = api.get("/api/v1/search", params)
    assert response.status_code == 400
    assert field in response.json()


def test_remembered_search_parameters_keep_overrides_for_staff_and_see_new_attributes(api, small_shop):
    from django.contrib.auth import get_user_model

    query = {"q": "tent", "w_fused": "3"}
    staff = get_user_model().objects.create_user("merchandiser", password="pw", is_staff=True)
    api.force_login(staff)
    assert api.get("/api/v1/search", query).status_code == 200
    api.logout()
    assert api.get("/api/v1/search", query).status_code == 400  # not served the staff's parse

    assert api.get("/api/v1/search", {"q": "tent", "fabric": "Nylon"}).status_code == 400
    product = Product.objects.get(sku="TEN-RED")
    product.attributes = {**product.attributes, "fabric": "Nylon"}
    product.save()
    response = api.get("/api/v1/search", {"q": "tent", "fabric": "Nylon"})  # unknown a moment ago
    assert response.status_code == 200 and [item["sku"] for item in response.json()["results"]] == ["TEN-RED"]
    # a remembered parse goes with the attribute names it was made with
    assert api.get("/api/v1/search", {"q": "tent", "fabric": "Nylon"}).status_code == 200  # remembered now
    product.attributes = {key: value for key, value in product.attributes.items() if key != "fabric"}
    product.save()
    selectors.process_caches_clear()  # as when the names are re-read
    assert api.get("/api/v1/search", {"q": "tent", "fabric": "Nylon"}).status_code == 400


def test_remembered_search_parameters_are_kept_apart_by_encoding(api, small_shop):
    query = "q=caf%C3%A9+tent"
    assert api.get(f"/api/v1/search?{query}", CONTENT_TYPE="text/plain; charset=latin-1").status_code == 200
    response = api.get(f"/api/v1/search?{query}")  # UTF-8, as almost every storefront sends it
    assert search_logs_flush() == 2
    queries = set(SearchLog.objects.values_list("query", flat=True))
    assert response.status_code == 200 and queries == {"café tent", "cafÃ© tent"}


def photo_upload(data: bytes, name="photo.jpg"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return {"image": SimpleUploadedFile(name, data, content_type="image/jpeg")}


def test_photo_search_by_upload_and_base64_with_text_refinement(api, small_shop):
    red = jpeg_bytes(size=(48, 64), color=(220, 20, 20))
    response = api.post("/api/v1/search/image?page_size=4&explain=1", photo_upload(red))
    assert response.status_code == 200, response.content
    body = response.json()
    assert {item["sku"][-3:] for item in body["results"]} == {"RED"}
    assert {"image", "fused"} <= set(body["results"][0]["explain"])
    as_json = api.post("/api/v1/search/image", {"image": base64.b64encode(red).decode(), "q": "tent", "page_size": 4},
                       content_type="application/json")  # fmt: skip
    assert as_json.status_code == 200 and as_json.json()["results"]
    filtered = api.post("/api/v1/search/image?kind=x", photo_upload(red))
    assert filtered.status_code == 400


def test_photo_search_errors(api, small_shop, settings):
    assert api.post("/api/v1/search/image", photo_upload(b"not a photo at all")).status_code == 400
    assert api.post("/api/v1/search/image", photo_upload(jpeg_bytes(size=(300, 200))[:300])).status_code == 400
    bomb = io.BytesIO()
    Image.new("1", (20_000, 10_000)).save(bomb, "PNG")
    response = api.post("/api/v1/search/image", photo_upload(bomb.getvalue(), "bomb.png"))
    assert response.status_code == 400 and "decompression bomb" in json.dumps(response.json())
    assert f"the {settings.PHOTO_MAX_PIXELS / 1e6:.0f} MP allowed" in json.dumps(response.json())  # the setting's
    settings.SEARCH_PHOTO_MAX_BYTES = 1000
    assert api.post("/api/v1/search/image", photo_upload(jpeg_bytes(size=(400, 400)) + b"\0" * 2000)).status_code == 413
    unsupported = api.post("/api/v1/search/image", b"raw bytes", content_type="application/octet-stream")
    assert unsupported.status_code == 415
    assert api.post("/api/v1/search/image", {}, content_type="application/json").status_code == 400


def test_anonymous_throttling_answers_429_with_retry_after(api, small_shop, settings):
    settings.SEARCH_ANON_RATE = "3/min"
    codes = [api.get("/api/v1/search", {"q": "tent"}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = api.get("/api/v1/search", {"q": "tent"})
    assert response.status_code == 429 and 0 < int(response["Retry-After"]) <= 60
    # another client has its own counter
    assert api.get("/api/v1/search", {"q": "tent"}, REMOTE_ADDR="10.0.0.9").status_code == 200


def test_throttle_rates_parse_or_fail_clearly():
    from api_keys.throttling import parse_rate

    assert parse_rate("600/min") == (600, 60) and parse_rate("5/s") == (5, 1) and parse_rate("9/day") == (9, 86400)
    with pytest.raises(ValueError, match="bad rate"):
        parse_rate("600/fortnight")


def test_the_product_write_endpoint_needs_a_staff_token(api, small_shop, django_user_model):
    record = {"name": "Alpine tent", "price": "199.00", "categories": ["Outdoor/Tents"]}
    assert api.put("/api/v1/products/NEW-1", record, content_type="application/json").status_code == 401
    staff = django_user_model.objects.create_user("ops", password="x", is_staff=True)
    token = Token.objects.create(user=staff)
    response = api.put("/api/v1/products/NEW-1", record, content_type="application/json",
                       HTTP_AUTHORIZATION=f"Token {token.key}")  # fmt: skip
    assert response.status_code == 201 and response.json()["name"] == "Alpine tent"
    assert Product.objects.get(sku="NEW-1").embeddings_stale
    bad = api.put("/api/v1/products/NEW-1", {**record, "price": "-3"}, content_type="application/json",
                  HTTP_AUTHORIZATION=f"Token {token.key}")  # fmt: skip
    assert bad.status_code == 400


def test_patch_changes_only_the_fields_it_names_and_put_replaces_the_product(api, small_shop, django_user_model):
    staff = django_user_model.objects.create_user("ops", password="x", is_staff=True)
    auth = {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=staff).key}"}
    before = api.get("/api/v1/products/TEN-RED").json()
    assert before["description"] and before["images"]

    # PATCH: a price change keeps the name, description, photos and categories
    response = api.patch("/api/v1/products/TEN-RED", {"price": "12.50"}, content_type="application/json", **auth)
    assert response.status_code == 200
    after = response.json()
    assert after["price"] == "12.50"
    assert {k: after[k] for k in ("name", "description", "categories", "images")} == {
        k: before[k] for k in ("name", "description", "categories", "images")
    }
    # a PATCH of an unknown product is a 404 and creates nothing; bad values are a 400
    assert (
        api.patch("/api/v1/products/NOPE", {"price": "1"}, content_type="application/json", **auth).status_code == 404
    )
    assert not Product.objects.filter(sku="NOPE").exists()
    bad = api.patch("/api/v1/products/TEN-RED", {"price": "-1"}, content_type="application/json", **auth)
    assert bad.status_code == 400 and Product.objects.get(sku="TEN-RED").price == Decimal("12.50")
    assert api.patch("/api/v1/products/TEN-RED", {"price": "1"}, content_type="application/json").status_code == 401

    # PUT: the record is the whole product; what it leaves out takes its default
    response = api.put("/api/v1/products/TEN-RED", {"name": "Red tent"}, content_type="application/json", **auth)
    assert response.status_code == 200
    replaced = response.json()
    assert (replaced["name"], replaced["description"], replaced["price"], replaced["categories"]) == (
        "Red tent", "", None, []
    )  # fmt: skip


# --- catalog reads and the API schema ---------------------------------------------------------------------------


def test_catalog_read_endpoints(api, small_shop):
    listing = api.get("/api/v1/products", {"page_size": 5}).json()
    assert listing["count"] == 16 and len(listing["results"]) == 5
    detail = api.get("/api/v1/products/TEN-RED").json()
    assert detail["categories"] == ["Outdoor/Tents"] and len(detail["images"]) == 2
    assert detail["rating_count"] == 2
    assert api.get("/api/v1/products/NOPE").status_code == 404
    categories = [row["path"] for row in api.get("/api/v1/categories").json()["results"]]
    assert categories[:2] == ["Outdoor", "Outdoor/Bottles"]


def test_openapi_schema_and_docs_are_served_without_a_cdn(api):
    schema = api.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/v1/search" in schema.content
    docs = api.get("/api/docs/")
    html = docs.content.decode()
    assert docs.status_code == 200 and "swagger-ui" in html
    assert "cdn" not in html.lower() and "https://" not in html
    home = api.get("/")
    assert home.status_code == 200 and 'id="search-form"' in home.content.decode()  # the demo storefront


# --- query count guards -----------------------------------------------------------------------------------------


def test_search_selectors_use_a_fixed_number_of_queries(small_shop, django_assert_num_queries):
    from search.spelling import current_vocabulary

    current_vocabulary()  # built once per process; not part of a search
    generation = EmbeddingGeneration.objects.get(pk=small_shop.pk)
    # loads the encoders, the term statistics and these words' lexemes (a new word costs one query, once)
    search_products(SearchQuery(text="red tent blue hoodie", page_size=10), generation)
    # keyword members with their total and facets (while the query is encoded), vector candidates with their
    # documents and keyword scores
    with django_assert_num_queries(2):
        search_products(SearchQuery(text="blue hoodie", page_size=10), generation)
    with django_assert_num_queries(2):  # same with filters
        search_products(SearchQuery(text="hoodie", filters=Filters(category="Outdoor", in_stock=True)), generation)
    stored = ImageEmbedding.objects.filter(generation=generation).first()  # a catalog photo as the query
    photo = PhotoQuery(image_vector=np.asarray(stored.vector), joint_vector=np.asarray(stored.aligned))
    with django_assert_num_queries(1):  # photo: every vector signal in one statement, with the documents
        assert search_products(SearchQuery(photo=photo), generation).total > 0
    with django_assert_num_queries(3):  # browse: page with total, facets, products
        search_products(SearchQuery(filters=Filters(category="Outdoor/Tents")), generation)


def test_category_facet_counts_descendants_once():
    outdoor = Category.objects.create(path="Gear", name="Gear", depth=0)
    product = ProductFactory(primary_category=outdoor)
    ProductCategory.objects.create(product=product, category=outdoor)
    search_documents_update(product_ids=[product.pk])
    document = SearchDocument.objects.get(product=product)
    assert document.facets == ["category=Gear"]
    assert facets.browse_facets(Filters())["category"] == [{"value": "Gear", "count": 1}]
    read = Document(document.facets, None, None, "{}")
    counted = facets.facets_from_counts(facets.document_counts([read]).items())
    assert counted["category"] == [{"value": "Gear", "count": 1}]
    assert django_settings.SEARCH_MAX_PAGE_SIZE == 100
