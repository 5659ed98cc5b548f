"""Merchandising levers on real PostgreSQL and Redis: sorting, synonyms, query rules."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import Product
from catalog.services import catalog_import
from search.documents import search_documents_update
from search.merchandising import merchandising_changed
from search.models import ProductPopularity, QueryRule, SynonymSet

from .conftest import build_generation, write_small_catalog

pytestmark = pytest.mark.django_db

# Prices of the 16-product shop: each kind in its own band, colours spread inside it; two ties on purpose.
PRICES = {
    "JAC": {"RED": "80", "BLU": "60", "GRE": "70", "YEL": "60"},
    "HOO": {"RED": "45", "BLU": "40", "GRE": "55", "YEL": None},
    "TEN": {"RED": "300", "BLU": "250", "GRE": "200", "YEL": "150"},
    "BOT": {"RED": "12", "BLU": "15", "GRE": "10", "YEL": "15"},
}


@pytest.fixture
def priced_shop(catalog_dir):
    """The 16-product shop with prices, ratings, creation times and popularity that differ."""
    catalog_import(path=write_small_catalog(catalog_dir))
    now = timezone.now()
    for n, product in enumerate(Product.objects.order_by("sku")):
        kind, colour = product.sku.split("-")
        price = PRICES[kind][colour]
        Product.objects.filter(pk=product.pk).update(
            price=Decimal(price) if price else None,
            rating_average=Decimal(n % 5) if n % 3 else None,
            rating_count=n,
            created_at=now - timedelta(days=n),
        )
        if n % 4 == 0:
            ProductPopularity.objects.create(product=product, score=float(n))
    search_documents_update()
    return build_generation()


def all_pages(api, params: dict, page_size: int = 3) -> tuple[list[str], list[dict]]:
    """Every sku of a search read page by page, and each page's body."""
    skus, bodies, page = [], [], 1
    while True:
        body = api.get("/api/v1/search", {**params, "page": page, "page_size": page_size}).json()
        bodies.append(body)
        skus += [item["sku"] for item in body["results"]]
        if page * page_size >= body["total"]:
            return skus, bodies
        page += 1


def expected_order(skus: list[str], sort: str) -> list[str]:
    products = {p.sku: p for p in Product.objects.filter(sku__in=skus).select_related("popularity")}

    def popularity(p):
        return getattr(getattr(p, "popularity", None), "score", 0.0) if hasattr(p, "popularity") else 0.0

    keys = {
        "price_asc": lambda p: (p.price is None, p.price or 0, p.pk),
        "price_desc": lambda p: (p.price is None, -(p.price or 0), p.pk),
        "newest": lambda p: (-p.created_at.timestamp(), -p.pk),
        "rating": lambda p: (p.rating_average is None, -(p.rating_average or 0), -p.rating_count, p.pk),
        "popularity": lambda p: (-popularity(p), -p.rating_count, p.pk),
    }
    return sorted(skus, key=lambda sku: keys[sort](products[sku]))


@pytest.mark.parametrize("sort", ["price_asc", "price_desc", "newest", "rating", "popularity"])
@pytest.mark.parametrize("params", [{"q": "jacket hoodie tent bottle outdoors"}, {"category": "Outdoor"},
                                    {"q": "outdoors", "color": "Blue"}])  # fmt: skip
def test_every_sort_orders_the_whole_match_set_with_stable_ties_and_the_same_total_and_facets(
    api, priced_shop, sort, params
):
    # given the relevance results of a search (every page)
    relevant, relevant_pages = all_pages(api, params)
    assert relevant, "the search must match something for the test to mean anything"

    # when the same search is sorted, read page by page
    ordered, pages = all_pages(api, {**params, "sort": sort})

    # then it is the same match set (no product repeated or skipped across pages), in exactly the sort's order,
    # with the same total and facets on every page
    assert sorted(ordered) == sorted(relevant) and len(set(ordered)) == len(ordered)
    assert ordered == expected_order(relevant, sort)
    assert {body["total"] for body in pages} == {relevant_pages[0]["total"]}
    assert all(body["facets"] == relevant_pages[0]["facets"] for body in pages)


@pytest.mark.parametrize("sort", ["price_asc", "newest"])
def test_a_sorted_match_set_larger_than_what_relevance_reads_is_whole_on_every_page(api, priced_shop, settings, sort):
    # given a search's match set (every relevance page)
    params = {"q": "jacket hoodie tent bottle outdoors"}
    relevant, _ = all_pages(api, params)
    assert len(relevant) > 10

    # when it is sorted while reading fewer products in relevance order than its match set has (a page's worth of
    # keyword members, two of each vector signal), as a broad query on a large catalog does, read page by page
    settings.SEARCH_FULLTEXT_CANDIDATES, settings.SEARCH_VECTOR_CANDIDATES = 0, 2
    ordered, pages = all_pages(api, {**params, "sort": sort})

    # then every member comes once, in the sort's order, each with its card
    assert ordered == expected_order(relevant, sort)
    assert all(item["name"] and item["photo_url"] for body in pages for item in body["results"])


def test_price_sort_puts_products_without_a_price_last_in_both_directions(api, priced_shop):
    ascending = [i["sku"] for i in api.get("/api/v1/search", {"q": "hoodie", "sort": "price_asc"}).json()["results"]]
    descending = [i["sku"] for i in api.get("/api/v1/search", {"q": "hoodie", "sort": "price_desc"}).json()["results"]]
    assert ascending == ["HOO-BLU", "HOO-RED", "HOO-GRE", "HOO-YEL"]
    assert descending == ["HOO-GRE", "HOO-RED", "HOO-BLU", "HOO-YEL"]


def test_sorted_results_are_cached_apart_from_relevance(api, priced_shop):
    relevance = api.get("/api/v1/search", {"q": "tent"})
    by_price = api.get("/api/v1/search", {"q": "tent", "sort": "price_asc"})
    again = api.get("/api/v1/search", {"q": "tent", "sort": "price_asc"})
    assert by_price["X-Cache"] == "MISS" and again["X-Cache"] == "HIT"
    assert [i["sku"] for i in again.json()["results"]] == ["TEN-YEL", "TEN-GRE", "TEN-BLU", "TEN-RED"]
    assert relevance.json()["total"] == by_price.json()["total"] == 4


def test_photo_search_can_be_sorted(api, priced_shop):
    from .conftest import jpeg_bytes
    from .test_search import photo_upload

    red = jpeg_bytes(size=(48, 64), color=(220, 20, 20))
    relevance = api.post("/api/v1/search/image", photo_upload(red))
    by_price = api.post("/api/v1/search/image", {**photo_upload(red), "sort": "price_desc"})
    assert relevance.status_code == by_price.status_code == 200, by_price.json()
    skus = [item["sku"] for item in relevance.json()["results"]]
    assert by_price.json()["total"] == relevance.json()["total"] > 1
    assert [item["sku"] for item in by_price.json()["results"]] == expected_order(skus, "price_desc")


def test_an_unknown_sort_is_a_400_naming_the_field(api, priced_shop):
    response = api.get("/api/v1/search", {"q": "tent", "sort": "cheapest"})
    assert response.status_code == 400 and "sort" in response.json()


# --- synonyms ---------------------------------------------------------------------------------------------------


def skus_of(api, params: dict) -> list[str]:
    return [item["sku"] for item in api.get("/api/v1/search", {"page_size": 50, **params}).json()["results"]]


@pytest.fixture
def gear_shop(catalog_dir):
    """A shop whose words differ from its shoppers': "pullover" and "hooded sweatshirt" for hoodies, "t-shirt"."""
    for sku, name, category in [
        ("PUL-1", "Grey pullover", "Tops/Pullovers"),
        ("SWE-1", "Hooded sweatshirt in navy", "Tops/Sweatshirts"),
        ("TSH-1", "Cotton t-shirt", "Tops/Shirts"),
        ("TEN-1", "Dome tent", "Outdoor/Tents"),
        ("MUG-1", "Enamel camping mug", "Outdoor/Kitchen"),
    ]:
        catalog_dir.add_product(sku=sku, name=name, categories=[category], description=f"{name}.")
    catalog_import(path=catalog_dir.write())
    return None


def synonyms(*terms: str, root: str = "") -> SynonymSet:
    synonym_set = SynonymSet.objects.create(terms=list(terms), root=root)
    merchandising_changed()
    return synonym_set


def test_multi_way_synonyms_find_every_term_of_the_set_and_show_in_explain(api, gear_shop):
    assert skus_of(api, {"q": "hoodie"}) == []
    synonyms("hoodie", "hooded sweatshirt", "pullover")

    assert set(skus_of(api, {"q": "hoodie"})) == {"PUL-1", "SWE-1"}
    assert set(skus_of(api, {"q": "pullover"})) == {"PUL-1", "SWE-1"}
    assert set(skus_of(api, {"q": "hooded sweatshirt"})) == {"PUL-1", "SWE-1"}
    body = api.get("/api/v1/search", {"q": "hoodie", "explain": 1}).json()
    assert body["explain"]["synonyms"] == [{"term": "hoodie", "added": ["hooded sweatshirt", "pullover"]}]
    assert body["total"] == 2


def test_one_way_synonyms_apply_from_their_terms_only(api, gear_shop):
    synonyms("tee", root="t-shirt")
    synonyms("mug", root="pullover")  # nonsense on purpose: one way only, so "pullover" must not find the mug

    assert skus_of(api, {"q": "tee"}) == ["TSH-1"]
    assert "MUG-1" not in skus_of(api, {"q": "pullover"})


def test_synonyms_compose_with_typo_correction(api, gear_shop):
    synonyms("hoodie", "hooded sweatshirt", "pullover")
    body = api.get("/api/v1/search", {"q": "hodie", "explain": 1}).json()
    assert body["corrected_query"] == "hoodie"
    assert {item["sku"] for item in body["results"]} == {"PUL-1", "SWE-1"}
    assert {item["sku"] for item in api.get("/api/v1/search", {"q": "pulover"}).json()["results"]} >= {"PUL-1"}


def test_a_synonym_change_invalidates_cached_results_at_once(api, gear_shop):
    first = api.get("/api/v1/search", {"q": "hoodie"})
    assert api.get("/api/v1/search", {"q": "hoodie"})["X-Cache"] == "HIT" and first.json()["total"] == 0
    synonym_set = synonyms("hoodie", "pullover")
    after = api.get("/api/v1/search", {"q": "hoodie"})
    assert after["X-Cache"] == "MISS" and after.json()["total"] == 1
    synonym_set.enabled = False
    synonym_set.save()
    merchandising_changed()
    assert api.get("/api/v1/search", {"q": "hoodie"}).json()["total"] == 0


# --- query rules ------------------------------------------------------------------------------------------------


def rule(**fields) -> QueryRule:
    made = QueryRule.objects.create(name=fields.pop("name", "rule"), **fields)
    merchandising_changed()
    return made


def test_pins_hold_their_positions_and_hides_leave_the_total_and_facets(api, priced_shop):
    before, _ = all_pages(api, {"q": "tent"})
    rule(match="equals", pattern="Tent", pins=[{"sku": "BOT-RED", "position": 2}], hides=["TEN-BLU"])

    after, pages = all_pages(api, {"q": "tent"}, page_size=2)
    assert after[1] == "BOT-RED"
    assert "TEN-BLU" not in after and set(after) == (set(before) - {"TEN-BLU"}) | {"BOT-RED"}
    assert [s for s in after if s != "BOT-RED"] == [s for s in before if s != "TEN-BLU"]  # the rest in order
    assert {body["total"] for body in pages} == {len(before)}  # one hidden, one pinned
    categories = {row["value"]: row["count"] for row in pages[0]["facets"]["category"]}
    assert categories.get("Outdoor/Bottles") == 1 and categories["Outdoor/Tents"] == 3
    explained = api.get("/api/v1/search", {"q": "tent", "explain": 1}).json()
    assert explained["explain"]["rules"] == [{"id": QueryRule.objects.get().pk, "name": "rule"}]
    assert "pinned" in explained["results"][1]["explain"]
    # another query is untouched
    assert "BOT-RED" not in skus_of(api, {"q": "jacket"})


def test_a_pinned_sku_that_the_filters_leave_out_stays_out(api, priced_shop):
    rule(match="contains", pattern="tent", pins=[{"sku": "BOT-RED", "position": 1}])
    assert skus_of(api, {"q": "tent"})[0] == "BOT-RED"
    filtered = api.get("/api/v1/search", {"q": "tent", "color": "Blue"}).json()
    assert [item["sku"] for item in filtered["results"]] == ["TEN-BLU"] and filtered["total"] == 1


def test_pins_hold_under_a_sort_and_on_a_browsed_category(api, priced_shop):
    rule(match="always", category="Outdoor/Tents", pins=[{"sku": "TEN-GRE", "position": 1}])
    browsed = skus_of(api, {"category": "Outdoor/Tents"})
    assert browsed[0] == "TEN-GRE" and len(browsed) == 4
    by_price, pages = all_pages(api, {"category": "Outdoor/Tents", "sort": "price_desc"}, page_size=2)
    assert by_price == ["TEN-GRE", "TEN-RED", "TEN-BLU", "TEN-YEL"] and pages[0]["total"] == 4
    assert skus_of(api, {"category": "Outdoor/Jackets"})[0] != "TEN-GRE"


def test_boost_and_bury_by_attribute_reorder_into_tiers(api, priced_shop):
    query = {"q": "jacket hoodie"}
    before = skus_of(api, query)
    boosts = [
        {"attribute": "color", "value": "Green", "weight": 2},
        {"attribute": "color", "value": "Red", "weight": -1},
    ]
    rule(match="equals", pattern="jacket hoodie", boosts=boosts)
    after = skus_of(api, query)
    green = [s for s in after if s.endswith("GRE")]
    red = [s for s in after if s.endswith("RED")]
    assert after[: len(green)] == green and after[-len(red) :] == red and sorted(after) == sorted(before)
    middle = [s for s in after if s not in green + red]
    assert middle == [s for s in before if s in middle]  # relevance order inside a tier


def test_rules_add_filters_replace_the_query_and_redirect(api, priced_shop):
    rule(match="equals", pattern="cheap tents", replace_query="tent", add_filters={"price_max": "200"})
    body = api.get("/api/v1/search", {"q": "cheap tents"}).json()
    assert {item["sku"] for item in body["results"]} == {"TEN-GRE", "TEN-YEL"} and body["total"] == 2
    rule(match="pattern", pattern=r"^(help|returns?)\b", redirect_url="https://shop.example/help")
    assert api.get("/api/v1/search", {"q": "Returns policy"}).json()["redirect"] == "https://shop.example/help"
    assert api.get("/api/v1/search", {"q": "tent"}).json()["redirect"] is None


def test_a_rule_outside_its_window_or_disabled_has_no_effect(api, priced_shop):
    now = timezone.now()
    base = skus_of(api, {"q": "tent"})
    rule(match="equals", pattern="tent", hides=["TEN-RED"], starts_at=now + timedelta(hours=1))
    rule(match="equals", pattern="tent", hides=["TEN-BLU"], ends_at=now - timedelta(minutes=1))
    rule(match="equals", pattern="tent", hides=["TEN-GRE"], enabled=False)
    assert skus_of(api, {"q": "tent"}) == base
    rule(match="equals", pattern="tent", hides=["TEN-YEL"], starts_at=now - timedelta(hours=1),
         ends_at=now + timedelta(hours=1))  # fmt: skip
    assert skus_of(api, {"q": "tent"}) == [s for s in base if s != "TEN-YEL"]


def test_cached_results_follow_a_rule_change_at_once(api, priced_shop):
    api.get("/api/v1/search", {"q": "tent"})
    assert api.get("/api/v1/search", {"q": "tent"})["X-Cache"] == "HIT"
    made = rule(match="equals", pattern="tent", hides=["TEN-RED"])
    response = api.get("/api/v1/search", {"q": "tent"})
    assert response["X-Cache"] == "MISS" and "TEN-RED" not in [i["sku"] for i in response.json()["results"]]
    made.delete()
    merchandising_changed()
    assert "TEN-RED" in skus_of(api, {"q": "tent"})


def test_a_result_computed_before_a_change_is_not_cached_after_it(priced_shop):
    from search.cache import cache_key, cache_result, cached_result_json

    key = cache_key({"q": "race"}, None)
    merchandising_changed()
    from search.merchandising import merchandising_version

    stale = {"total": 0, "results": [], "_levers": merchandising_version()}
    merchandising_changed()  # a rule changed while that search ran
    cache_result(key, stale, [])
    assert cached_result_json(key) is None
    cache_result(key, {**stale, "_levers": merchandising_version()}, [])
    assert cached_result_json(key) is not None


# --- staff API and admin ----------------------------------------------------------------------------------------


@pytest.fixture
def staff_auth(django_user_model) -> dict:
    from rest_framework.authtoken.models import Token

    staff = django_user_model.objects.create_user("merchandiser", password="x", is_staff=True)
    return {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=staff).key}"}


def test_synonyms_and_rules_apis_are_staff_only(api, priced_shop, django_user_model):
    shopper = django_user_model.objects.create_user("shopper", password="x")
    from rest_framework.authtoken.models import Token

    shopper_auth = {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=shopper).key}"}
    for path, body in [("/api/v1/synonyms", {"terms": ["a", "b"]}), ("/api/v1/rules", {"name": "x"})]:
        assert api.get(path).status_code in (401, 403)
        assert api.post(path, body, content_type="application/json").status_code in (401, 403)
        assert api.post(path, body, content_type="application/json", **shopper_auth).status_code == 403
    assert not SynonymSet.objects.exists() and not QueryRule.objects.exists()


def test_synonyms_api_writes_take_effect_at_once(api, gear_shop, staff_auth, django_capture_on_commit_callbacks):
    assert api.get("/api/v1/search", {"q": "hoodie"}).json()["total"] == 0
    assert api.get("/api/v1/search", {"q": "hoodie"})["X-Cache"] == "HIT"
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post("/api/v1/synonyms", {"terms": ["Hoodie", "pullover", " hoodie "]},
                           content_type="application/json", **staff_auth)  # fmt: skip
    assert created.status_code == 201, created.json()
    assert created.json()["terms"] == ["hoodie", "pullover"]
    assert api.get("/api/v1/search", {"q": "hoodie"}).json()["total"] == 1
    pk = created.json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        assert api.patch(f"/api/v1/synonyms/{pk}", {"enabled": False}, content_type="application/json",
                         **staff_auth).status_code == 200  # fmt: skip
    assert api.get("/api/v1/search", {"q": "hoodie"}).json()["total"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"/api/v1/synonyms/{pk}", **staff_auth).status_code == 204
    assert api.get(f"/api/v1/synonyms/{pk}", **staff_auth).status_code == 404
    bad = api.post("/api/v1/synonyms", {"terms": ["alone"]}, content_type="application/json", **staff_auth)
    assert bad.status_code == 400 and "terms" in bad.json()


@pytest.mark.parametrize("body, field", [
    ({"name": "r", "match": "pattern", "pattern": "(unclosed"}, "pattern"),
    ({"name": "r", "match": "contains", "pattern": " "}, "pattern"),
    ({"name": "r", "pins": [{"sku": "X", "position": 0}]}, "pins"),
    ({"name": "r", "add_filters": {"price_max": "lots"}}, "add_filters"),
    ({"name": "r", "starts_at": "2027-01-02T00:00:00Z", "ends_at": "2027-01-01T00:00:00Z"}, "ends_at"),
    ({"name": "r", "redirect_url": "not a url"}, "redirect_url"),
])  # fmt: skip
def test_rules_api_refuses_bad_rules_with_the_field(api, priced_shop, staff_auth, body, field):
    response = api.post("/api/v1/rules", body, content_type="application/json", **staff_auth)
    assert response.status_code == 400 and field in response.json(), response.json()
    assert not QueryRule.objects.exists()


def test_rules_api_creates_a_rule_that_applies_at_once(api, priced_shop, staff_auth,
                                                      django_capture_on_commit_callbacks):  # fmt: skip
    assert api.get("/api/v1/search", {"q": "tent"})["X-Cache"] == "MISS"
    assert api.get("/api/v1/search", {"q": "tent"})["X-Cache"] == "HIT"
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/rules", {"name": "bottles first", "match": "equals", "pattern": "tent",
                                              "pins": [{"sku": "BOT-BLU", "position": 1}]},
                            content_type="application/json", **staff_auth)  # fmt: skip
    assert response.status_code == 201, response.json()
    assert skus_of(api, {"q": "tent"})[0] == "BOT-BLU"


def test_admin_rule_preview_shows_before_and_after_side_by_side(client, priced_shop, django_user_model):
    staff = django_user_model.objects.create_superuser("boss", password="x")
    client.force_login(staff)
    made = QueryRule.objects.create(name="draft", enabled=False, match="equals", pattern="tent",
                                    pins=[{"sku": "BOT-GRE", "position": 1}])  # fmt: skip
    listing = client.get("/admin/search/queryrule/")
    assert listing.status_code == 200 and "before / after in the playground" in listing.content.decode()
    page = client.get("/admin/playground/", {"q": "tent", "preview_rule": made.pk})
    comparison = page.context["rules_comparison"]
    assert comparison.after[0]["sku"] == "BOT-GRE" and "BOT-GRE" not in [p["sku"] for p in comparison.before]
    assert comparison.rules == [{"id": made.pk, "name": "draft"}]
    assert comparison.after_total == comparison.before_total + 1
    assert 'id="rules-before"' in page.content.decode() and 'id="rules-after"' in page.content.decode()
    assert skus_of(client, {"q": "tent"})[0] != "BOT-GRE"  # a disabled rule is only previewed

    saved = client.post("/admin/search/synonymset/add/", {"terms": "tent,shelter", "root": "", "enabled": "on",
                                                          "note": ""})  # fmt: skip
    assert saved.status_code == 302 and SynonymSet.objects.get().terms == ["tent", "shelter"]
    form = {"name": "bad", "match": "pattern", "pattern": "(", "priority": 0, "filter_present": "{}", "pins": "[]",
            "boosts": "[]", "add_filters": "{}", "hides": ""}  # fmt: skip
    refused = client.post("/admin/search/queryrule/add/", form)
    assert refused.status_code == 200 and QueryRule.objects.count() == 1


def test_popularity_counts_recent_clicks_and_add_to_carts(priced_shop):
    import uuid

    from search.models import SearchEvent
    from search.services import product_popularity_refresh

    ProductPopularity.objects.all().delete()
    search = uuid.uuid4()
    SearchEvent.objects.create(search_id=search, type="click", sku="TEN-RED")
    SearchEvent.objects.create(search_id=search, type="add_to_cart", sku="TEN-RED")
    SearchEvent.objects.create(search_id=search, type="click", sku="BOT-RED")
    old = SearchEvent.objects.create(search_id=search, type="add_to_cart", sku="JAC-RED")
    SearchEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    assert product_popularity_refresh() == 2
    scores = dict(ProductPopularity.objects.values_list("product__sku", "score"))
    assert scores == {"TEN-RED": 4.0, "BOT-RED": 1.0}


def test_a_category_page_rule_boosts_a_brand_only_with_its_filter_present(api, priced_shop):
    Product.objects.filter(sku__in=["JAC-YEL", "HOO-YEL"]).update(brand="Nordic")
    search_documents_update()
    rule(match="always", category="Outdoor", filter_present={"in_stock": ""},
         boosts=[{"attribute": "brand", "value": "Nordic", "weight": 5}])  # fmt: skip
    plain = skus_of(api, {"category": "Outdoor"})
    boosted = skus_of(api, {"category": "Outdoor", "in_stock": "true"})
    assert set(boosted[:2]) == {"JAC-YEL", "HOO-YEL"} and len(boosted) == len(plain)
    assert set(plain[:2]) != {"JAC-YEL", "HOO-YEL"}  # without the filter the rule does not apply
    assert skus_of(api, {"category": "Outdoor", "in_stock": "true", "sort": "price_asc"})[0] == "BOT-GRE"


def test_an_attribute_the_shop_marks_sortable_can_be_sorted_by(api, priced_shop):
    from catalog.selectors import attribute_setup_clear
    from catalog.services import attribute_setup_save

    weights = {"TEN-RED": 4.2, "TEN-BLU": 2.5, "TEN-GRE": 11, "TEN-YEL": None}
    for sku, weight in weights.items():
        product = Product.objects.get(sku=sku)
        product.attributes = {**product.attributes, **({"weight_kg": weight} if weight is not None else {})}
        product.save(update_fields=["attributes"])
    refused = api.get("/api/v1/search", {"q": "tent", "sort": "weight_kg_asc"})
    assert refused.status_code == 400 and "sort" in refused.json()  # not sortable until the shop says so

    attribute_setup_save(settings=[{"name": "weight_kg", "sortable": True}])
    attribute_setup_clear()
    ascending = skus_of(api, {"q": "tent", "sort": "weight_kg_asc"})
    descending = skus_of(api, {"q": "tent", "sort": "weight_kg_desc"})
    assert ascending == ["TEN-BLU", "TEN-RED", "TEN-GRE", "TEN-YEL"]  # numbers as numbers; without it last
    assert descending == ["TEN-GRE", "TEN-RED", "TEN-BLU", "TEN-YEL"]
    assert api.get("/api/v1/search", {"q": "tent", "sort": "rating_asc"}).status_code == 400
