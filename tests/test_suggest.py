"""Autocomplete (``GET /api/v1/suggest``): prefix and typo-tolerant prefix completions from popular queries,
categories, catalog words and product names, the top few products under an API key's filters, hiding a suggestion,
freshness after catalog and suggestion changes, and input errors."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from api_keys.services import api_key_create
from catalog.services import catalog_import
from search.filters import Filters
from search.models import QuerySuggestion, SearchLog
from search.suggest import PrefixIndex, query_suggestion_hide, query_suggestions_refresh, suggest

from .conftest import write_small_catalog

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(catalog_dir):
    """The 16 products of the small catalog (4 kinds x 4 colours, "Red hoodie", category "Outdoor/Hoodies"...),
    plus a "Mona Pullover Hoodie"; the blue hoodie is the most reviewed, the yellow one out of stock."""
    catalog_dir.add_product(sku="MONA", name="Mona Pullover Hoodie", categories=["Outdoor/Hoodies"],
                            attributes={"color": "Gray", "material": "Fleece"}, description="Warm.")  # fmt: skip
    catalog_dir.add_review(sku="HOO-BLU", rating=5, title="Cosy", body="Warm and soft", author="A")
    catalog_dir.add_review(sku="HOO-BLU", rating=4, title="Nice", body="", author="B")
    catalog_dir.add_product(sku="HOO-YEL-2", name="Yellow hoodie", categories=["Outdoor/Hoodies"], in_stock=False)
    catalog_dir.add_product(sku="RAIN", name="City raincoat", categories=["City/Jackets"])
    catalog_import(path=write_small_catalog(catalog_dir))


def get(api, q, **params):
    response = api.get("/api/v1/suggest", {"q": q, **params})
    assert response.status_code == 200, response.content
    return response.json()


def texts(body, kind=None) -> list[str]:
    return [s["text"] for s in body["suggestions"] if kind is None or s["kind"] == kind]


def skus(body) -> list[str]:
    return [p["sku"] for p in body["products"]]


def log_searches(query: str, results: int, times: int, *, filters=None, minutes_ago: int = 60) -> None:
    now = timezone.now()
    for n in range(times):
        SearchLog.objects.create(kind="text", query=query, normalized_query=query, result_count=results,
                                 filters=filters or {}, latency_ms=5.0,
                                 created_at=now - timedelta(minutes=minutes_ago - n))  # fmt: skip


def refresh(django_capture_on_commit_callbacks) -> int:
    with django_capture_on_commit_callbacks(execute=True):
        return query_suggestions_refresh()


# --- prefix and typo-tolerant prefix ----------------------------------------------------------------------------


def test_a_prefix_completes_words_categories_and_names_and_finds_the_products(api, shop):
    body = get(api, "hoo")

    assert {"text": "Hoodies", "kind": "category", "category": "Outdoor/Hoodies", "typo": False} in body["suggestions"]
    assert "hoodie" in texts(body, "word") and "hoodies" in texts(body, "word")
    # a match may start at any word of a name ("Mona Pullover Hoodie"); in-stock, most reviewed products first
    assert skus(body)[0] == "HOO-BLU" and len(skus(body)) == 4
    assert set(skus(body)) <= {"HOO-BLU", "HOO-GRE", "HOO-RED", "MONA"}
    product = body["products"][0]
    assert set(product) == {"sku", "name", "price", "currency", "in_stock", "brand", "category", "photo_url"}
    assert product["name"] == "Blue hoodie" and product["photo_url"].startswith("/media/")
    # more products when asked; the out-of-stock ones come last
    assert skus(get(api, "hoo", products=10))[-2:] in (["HOO-YEL", "HOO-YEL-2"], ["HOO-YEL-2", "HOO-YEL"])
    assert not any(s["typo"] for s in body["suggestions"])


def test_the_last_word_is_completed_after_the_words_before_it(api, shop):
    body = get(api, "red hoo")

    assert "red hoodie" in texts(body)
    assert skus(body)[0] == "HOO-RED"
    assert all(text.startswith("red ") or "red" in text.lower() for text in texts(body))
    # a word completes only after words some product has with it: the gray fleece hoodie, no red fleece
    assert "gray fleece" in texts(get(api, "gray fl"), "word")
    assert texts(get(api, "red fl"), "word") == []
    # a match from the middle of a name: "pullover hoo"
    assert skus(get(api, "pullover hoo")) == ["MONA"]
    # no name has every word: the products of the names with the last ones
    assert skus(get(api, "warm fleece hoo"))[0] == "HOO-BLU"
    # a trailing space: the word is complete, names that continue it
    assert "Mona Pullover Hoodie" in texts(get(api, "mona "), "product")


def test_a_typo_in_the_prefix_is_tolerated_and_marked(api, shop):
    body = get(api, "hodie")  # one letter missing

    hoodie = next(s for s in body["suggestions"] if s["text"] == "hoodie")
    assert hoodie["kind"] == "word" and hoodie["typo"] is True
    assert skus(body)[0] == "HOO-BLU"

    assert "jacket" in texts(get(api, "jakc"))  # transposed letters
    # categories of one name under two parents are both suggested
    assert sorted(s["category"] for s in get(api, "jakc")["suggestions"] if s["kind"] == "category") == [
        "City/Jackets",
        "Outdoor/Jackets",
    ]
    assert "pullover" in texts(get(api, "pulov"))  # a letter missing inside
    assert skus(get(api, "pulov")) == ["MONA"]
    assert "blue hoodie" in texts(get(api, "bleu hoo"))  # a misspelt earlier word is corrected, not repeated
    assert not [t for t in texts(get(api, "bleu hoo")) if t.startswith("bleu")]
    # short prefixes are taken as typed: "hox" is no typo of "hoo"
    assert get(api, "hox") == {"suggestions": [], "products": []}


def test_exact_matches_come_before_typo_tolerant_ones(api, shop):
    body = get(api, "tent", limit=20)
    exact = [s["typo"] for s in body["suggestions"]]
    assert exact == sorted(exact)  # False before True
    assert body["suggestions"][0]["text"] in ("Tents", "tent", "tents")


# --- popular queries --------------------------------------------------------------------------------------------


def test_popular_queries_are_suggested_only_when_they_had_results(api, shop, settings,
                                                                 django_capture_on_commit_callbacks):  # fmt: skip
    settings.SEARCH_SUGGEST_MIN_SEARCHES = 2
    log_searches("red tent", results=4, times=3)
    log_searches("red hoodie", results=2, times=2, filters={"attributes": [["color", "Red"]]})  # filtered only
    log_searches("blue kayak", results=0, times=5)  # never found anything
    log_searches("green bottle", results=1, times=1)  # too rare
    log_searches("yellow jacket", results=3, times=2, minutes_ago=120)
    log_searches("yellow jacket", results=0, times=1, minutes_ago=10)  # found nothing lately
    log_searches("red tent", results=4, times=4, minutes_ago=60 * 24 * 40)  # outside the window
    SearchLog.objects.create(kind="text", query="red trousers", normalized_query="red trousers", result_count=9,
                             page=2, latency_ms=5.0)  # fmt: skip

    assert refresh(django_capture_on_commit_callbacks) == 2

    body = get(api, "re")
    assert texts(body, "query") == ["red tent", "red hoodie"]  # most searched first
    assert body["suggestions"][:2] == [
        {"text": "red tent", "kind": "query", "category": None, "typo": False},
        {"text": "red hoodie", "kind": "query", "category": None, "typo": False},
    ]
    assert texts(get(api, "tent"), "query") == ["red tent"]  # from any word of the query
    assert texts(get(api, "blue k"), "query") == []
    assert texts(get(api, "green b"), "query") == []
    assert texts(get(api, "yellow j"), "query") == []
    assert texts(get(api, "red tnet"), "query") == ["red tent"]  # typo-tolerant too
    rows = {row.query: row for row in QuerySuggestion.objects.all()}
    assert rows["red tent"].searches == 3 and rows["yellow jacket"].last_result_count == 0
    assert "red trousers" not in rows  # a second page is not a new search

    # a refresh after the queries went out of use drops them
    SearchLog.objects.all().delete()
    assert refresh(django_capture_on_commit_callbacks) == 0
    assert texts(get(api, "re"), "query") == []


def test_a_hidden_suggestion_is_never_offered_until_shown_again(api, shop, settings,
                                                               django_capture_on_commit_callbacks):  # fmt: skip
    log_searches("red tent", results=4, times=3)
    refresh(django_capture_on_commit_callbacks)
    assert "red tent" in texts(get(api, "red"))

    with django_capture_on_commit_callbacks(execute=True):
        query_suggestion_hide(text="Red  Tent")
        query_suggestion_hide(text="hoodies")  # any text: here a catalog word
    assert "red tent" not in texts(get(api, "red"))
    assert "hoodies" not in texts(get(api, "hoo", limit=20)) and "hoodie" in texts(get(api, "hoo"))

    # the hide survives a refresh, and lifting it brings the query back
    refresh(django_capture_on_commit_callbacks)
    assert QuerySuggestion.objects.get(query="red tent").hidden
    assert "red tent" not in texts(get(api, "red"))
    with django_capture_on_commit_callbacks(execute=True):
        query_suggestion_hide(text="red tent", hidden=False)
    assert "red tent" in texts(get(api, "red"))
    with pytest.raises(ValueError):
        query_suggestion_hide(text=" ?! ")


# --- API keys, access, input --------------------------------------------------------------------------------------


def test_a_search_keys_filters_hold_the_suggested_products_and_categories(api, shop):
    _, red = api_key_create(name="red shop", filters={"color": "Red"})
    body = api.get("/api/v1/suggest", {"q": "hoo"}, HTTP_X_API_KEY=red).json()
    assert skus(body) == ["HOO-RED"]

    _, tents = api_key_create(name="tents only", filters={"category": "Outdoor/Tents"})
    body = api.get("/api/v1/suggest", {"q": "hoo"}, HTTP_X_API_KEY=tents).json()
    assert skus(body) == [] and texts(body, "category") == []
    body = api.get("/api/v1/suggest", {"q": "te"}, HTTP_X_API_KEY=tents).json()
    assert texts(body, "category") == ["Tents"]
    assert sorted(skus(body)) == ["TEN-BLU", "TEN-GRE", "TEN-RED", "TEN-YEL"]


def test_a_restrictive_filter_is_filled_beyond_the_first_candidates(shop, monkeypatch):
    # given only 2 candidates read at first, a filter that admits neither of them
    from search import suggest as module

    monkeypatch.setattr(module, "PRODUCT_CANDIDATES", 2)
    result = suggest("hoo", filters=Filters(attributes=(("color", "Yellow"),)), product_limit=4)
    assert sorted(p["sku"] for p in result.products) == ["HOO-YEL"]
    assert [p["sku"] for p in suggest("hoo", product_limit=2).products] == ["HOO-BLU", "HOO-GRE"]


def test_anonymous_suggestions_follow_search_allow_anonymous(api, shop, settings):
    settings.SEARCH_ALLOW_ANONYMOUS = True
    assert api.get("/api/v1/suggest", {"q": "hoo"}).status_code == 200

    settings.SEARCH_ALLOW_ANONYMOUS = False
    refused = api.get("/api/v1/suggest", {"q": "hoo"})
    assert refused.status_code == 401 and "X-Api-Key" in refused.json()["detail"]
    _, raw = api_key_create(name="storefront")
    assert api.get("/api/v1/suggest", {"q": "hoo"}, HTTP_X_API_KEY=raw).status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": ""},
        {"q": "   "},
        {"q": "?!"},
        {"q": "h" * 101},
        {"q": "hoo", "limit": 0},
        {"q": "hoo", "limit": 21},
        {"q": "hoo", "products": 11},
        {"q": "hoo", "products": "many"},
    ],  # fmt: skip
)
def test_an_empty_overlong_or_bad_request_is_a_400_json(api, shop, params):
    response = api.get("/api/v1/suggest", params)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["status"] == 400 and set(body) - {"status"} <= {"q", "limit", "products"}


# --- freshness and cost -------------------------------------------------------------------------------------------


def test_a_catalog_change_shows_in_the_suggestions(api, shop, catalog_dir, django_capture_on_commit_callbacks):
    assert get(api, "kay")["products"] == []
    catalog_dir.add_product(sku="KAY-1", name="Sea kayak", categories=["Water/Kayaks"])
    with django_capture_on_commit_callbacks(execute=True):
        catalog_import(path=catalog_dir.write())
    body = get(api, "kay")
    assert skus(body) == ["KAY-1"] and "Kayaks" in texts(body, "category") and "kayak" in texts(body, "word")


def test_a_warm_suggestion_costs_one_query(api, shop, django_assert_num_queries):
    get(api, "hoo")  # builds the index
    with django_assert_num_queries(1):  # the products' cards
        assert get(api, "tent")["products"]
    with django_assert_num_queries(0):  # the same prefix again: kept
        assert get(api, "tent")["products"]
    with django_assert_num_queries(0):
        assert get(api, "tent", products=0)["suggestions"]


def test_a_prefix_index_finds_the_same_best_entries_as_a_scan():
    # a hand-made index large enough for precomputed ranges (more than HEAVY_RANGE pairs under "h")
    words = ["hoodie", "hooded", "hood", "hook", "hat", "jacket", "red", "tent"]
    keys = sorted({f"{a} {b} {c}" for a in words for b in words for c in words})
    scores = [float((i * 37) % 101) for i in range(len(keys))]
    index = PrefixIndex(keys, scores)

    def scan(prefix: str, k: int):
        best = {}
        for entry, (key, score) in enumerate(zip(keys, scores, strict=True)):
            parts = key.split(" ")
            for start in range(len(parts)):
                if " ".join(parts[start:]).startswith(prefix):
                    best[entry] = max(best.get(entry, -1.0), score + (1e15 if start == 0 else 0.0))
        return sorted(((s, e) for e, s in best.items()), key=lambda pair: (-pair[0], pair[1]))[:k]

    assert index._top  # some ranges were precomputed
    for prefix in ["", "h", "ho", "hoo", "hood", "hoodie ", "hoodie h", "j", "red t", "x"]:
        assert index.best(prefix, 10) == scan(prefix, 10), prefix


def test_a_filter_admitting_most_products_reads_the_whole_index_and_skips_the_others(shop):
    # given a filter admitting most products (no index of its own)
    result = suggest("hoo", filters=Filters(in_stock=True), product_limit=10)
    assert {p["sku"] for p in result.products} == {"HOO-BLU", "HOO-GRE", "HOO-RED", "HOO-YEL", "MONA"}
    # the out-of-stock second "Yellow hoodie" is not offered
    assert [p["sku"] for p in suggest("yellow h", filters=Filters(in_stock=True)).products] == ["HOO-YEL"]
    assert [p["sku"] for p in suggest("yellow h", filters=Filters(in_stock=False)).products] == ["HOO-YEL-2"]


def test_only_staff_hide_or_recount_suggestions(shop, django_user_model, django_capture_on_commit_callbacks):
    from django.test import Client

    shopper = django_user_model.objects.create_user("shopper", password="pw")
    staff = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
    anonymous, signed_in, operator = (
        Client(HTTP_HOST="localhost"),
        Client(HTTP_HOST="localhost"),
        Client(HTTP_HOST="localhost", enforce_csrf_checks=True),
    )
    signed_in.force_login(shopper)
    operator.force_login(staff)

    assert anonymous.post("/admin/suggestions/hide/", {"text": "hoodie"}).status_code == 302  # to the login page
    assert signed_in.post("/admin/suggestions/hide/", {"text": "hoodie"}).status_code == 403
    assert signed_in.post("/admin/suggestions/refresh/").status_code == 403
    assert operator.post("/admin/suggestions/hide/", {"text": "hoodie"}).status_code == 403  # no CSRF token
    assert not QuerySuggestion.objects.exists()

    page = operator.get("/admin/suggestions/", {"q": "hoo"})
    assert page.status_code == 200 and "hoodie" in page.content.decode()
    token = page.cookies["csrftoken"].value
    with django_capture_on_commit_callbacks(execute=True):
        done = operator.post("/admin/suggestions/hide/", {"text": "hoodie", "csrfmiddlewaretoken": token})
    assert done.status_code == 302 and QuerySuggestion.objects.get(query="hoodie").hidden
    assert "hoodie" not in [c.text for c in suggest("hoo").completions]


def test_the_fast_ascii_folding_is_the_spelling_vocabularys():
    from search.spelling import tokenize
    from search.suggest import tokens

    samples = ["Hooded Jacket", "a|b c$d", "T-Shirt (XL) 2-pack", "Men's tee_shirt", "50% off ~ now", "Café™ crème",
               "EverCool™ Tee", "", "   ", "x^2+y=3 <ok> `q`"]  # fmt: skip
    for text in samples:
        assert tokens(text) == tokenize(text), text


@pytest.mark.django_db(transaction=True)
def test_a_slow_index_is_rebuilt_in_the_background_and_a_hide_only_rereads_the_queries(catalog_dir):
    from search import suggest as module

    # given a shop whose index took long to build last time (as at 50,000 products)
    catalog_import(path=write_small_catalog(catalog_dir))
    before = module.current_index()
    assert "kayak" not in [c.text for c in suggest("kay").completions]
    module._Current.build_seconds = 10.0

    # when the catalog changes, the request answers at once from the previous index while a thread rebuilds it
    catalog_dir.add_product(sku="KAY-1", name="Sea kayak", categories=["Water/Kayaks"])
    catalog_import(path=catalog_dir.write())
    assert module.current_index() is before
    deadline = time.monotonic() + 30
    while module._Current.index is before and time.monotonic() < deadline:
        time.sleep(0.05)
    rebuilt = module.current_index()
    assert rebuilt is not before and [p["sku"] for p in suggest("kay").products] == ["KAY-1"]

    # a hide reads the queries again and keeps the catalog's part
    query_suggestion_hide(text="sea kayak")
    hidden = module.current_index()
    assert hidden is not rebuilt and hidden.kinds["product"] is rebuilt.kinds["product"]
    assert "Sea kayak" not in [c.text for c in suggest("sea k").completions]
