"""Search that knows when nothing matches: text-only catalogs, relevance thresholds calibrated per generation,
honest totals and facets, zero-result logging, keyword search before the first generation."""

from collections import Counter
from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from catalog.services import catalog_import
from embeddings.models import EmbeddingGeneration, Job
from embeddings.services import calibration
from embeddings.services.operations import job_run, job_start
from search.analytics import zero_result_queries
from search.models import SearchDocument, SearchLog
from search.services import search_logs_flush

from .conftest import build_generation, jpeg_bytes, write_small_catalog

pytestmark = pytest.mark.django_db

NONSENSE = ["zzzzqqq", "qwxv plkj", "laptop charger", "espresso machine"]


@pytest.fixture
def small_shop(catalog_dir):
    """16 products (tents, jackets, hoodies, bottles in four colours) with photos and an active generation."""
    catalog_import(path=write_small_catalog(catalog_dir))
    return build_generation()


def text_only_catalog(catalog_dir):
    """12 hardware products without a single photo."""
    kinds = {"Drill": "Tools/Power Tools", "Hammer": "Tools/Hand Tools", "Faucet": "Plumbing/Faucets"}
    for kind, category in kinds.items():
        for n, material in enumerate(["Steel", "Brass", "Chrome", "Black"]):
            catalog_dir.add_product(
                sku=f"{kind[:3].upper()}-{n}",
                name=f"{material} {kind.lower()} model {n}",
                categories=[category],
                attributes={"material": material},
                description=f"A {material.lower()} {kind.lower()} for the workshop.",
                price="19.99",
            )
    for n, material in enumerate(["Brass", "Copper"]):  # the same kind under another word
        catalog_dir.add_product(sku=f"TAP-{n}", name=f"{material} kitchen tap", categories=["Plumbing/Faucets"],
                                description="Mixer for the sink.", price="29.99")  # fmt: skip
    return catalog_dir.write()


# --- any catalog indexes and searches -----------------------------------------------------------------------------


def test_before_the_first_generation_text_search_answers_from_keywords(api, catalog_dir):
    catalog_import(path=text_only_catalog(catalog_dir))
    assert not EmbeddingGeneration.objects.exists()

    response = api.get("/api/v1/search", {"q": "brass faucet"})

    body = response.json()
    assert response.status_code == 200 and response["X-Search-Mode"] == "keyword" and body["mode"] == "keyword"
    # every faucet (the kind the query names: the category "Faucets"), the brass one first
    assert [item["sku"] for item in body["results"]][0] == "FAU-1" and body["total"] == 6
    assert {item["sku"] for item in body["results"]} == {"FAU-0", "FAU-1", "FAU-2", "FAU-3", "TAP-0", "TAP-1"}
    # a head no category names: the products with it in their name ("tap"), the copper one first
    body = api.get("/api/v1/search", {"q": "copper tap"}).json()
    assert [item["sku"] for item in body["results"]] == ["TAP-1", "TAP-0"]
    # numbers and sizes are never the head: "faucet 2" names faucets
    assert api.get("/api/v1/search", {"q": "faucet 2"}).json()["total"] == 6
    assert api.get("/api/v1/search", {"q": "zzzzqqq"}).json()["total"] == 0
    photo = api.post("/api/v1/search/image", {"image": _upload(jpeg_bytes())})
    assert photo.status_code == 409 and "no embedding generation is active" in photo.json()["detail"]


def test_a_catalog_without_photos_builds_a_text_only_generation_and_searches(api, catalog_dir):
    catalog_import(path=text_only_catalog(catalog_dir))

    job = job_start(kind=Job.Kind.BUILD, options={"train": True}, run_async=False)
    outcome = job_run(job=job)

    generation = EmbeddingGeneration.objects.get(state="active")
    assert generation.text_only and generation.head.text_only
    # reindex prints what it skipped and why
    assert "skipped: no joint (photo) space: the catalog has 0 usable photos" in outcome
    assert "skipped: 14 products have no usable photo" in outcome
    assert "photo search answers 409" in outcome
    assert {"text:text_vector", "similar:text_vector"} <= set(generation.relevance["signals"])

    body = api.get("/api/v1/search", {"q": "hammer"}).json()
    assert {item["sku"] for item in body["results"]} >= {"HAM-0", "HAM-1", "HAM-2", "HAM-3"}
    assert body["mode"] == "hybrid" and body["total"] == len(body["results"])
    similar = api.get("/api/v1/products/HAM-0/similar", {"k": 3})
    assert similar.status_code == 200 and similar.json()["results"]
    photo = api.post("/api/v1/search/image", {"image": _upload(jpeg_bytes())})
    assert photo.status_code == 409 and "has no photo vectors" in photo.json()["detail"]


def test_train_alignment_explains_what_to_do_without_photos(catalog_dir):
    from django.core.management import CommandError, call_command

    catalog_import(path=text_only_catalog(catalog_dir))
    with pytest.raises(CommandError, match="has 0 usable photos.*reindex` builds a text-only generation"):
        call_command("train_alignment", "--no-progress")


def test_a_text_only_head_is_replaced_once_the_catalog_has_enough_photos(catalog_dir, settings):
    from embeddings.services.training import latest_head, spec_from_settings

    catalog_import(path=text_only_catalog(catalog_dir))
    first = build_generation()
    assert first.text_only
    catalog_import(path=write_small_catalog(catalog_dir))  # 32 photos: enough to train
    assert latest_head(spec_from_settings()) is None
    second = build_generation()
    assert not second.text_only and not second.head.text_only


# --- absolute relevance, honest totals -------------------------------------------------------------------------


@pytest.mark.parametrize("query", NONSENSE)
def test_a_nonsense_or_absent_product_query_finds_nothing_and_is_logged(api, small_shop, query):
    response = api.get("/api/v1/search", {"q": query, "explain": "1"})

    body = response.json()
    assert response.status_code == 200
    assert body["total"] == 0 and body["results"] == []
    assert all(rows == [] for rows in body["facets"].values())
    search_logs_flush()
    log = SearchLog.objects.get(query=query)
    assert log.result_count == 0
    now = timezone.now()
    zero = zero_result_queries(start=now - timedelta(hours=1), end=now + timedelta(hours=1))
    assert [row.query for row in zero] == [" ".join(query.lower().split())]


def test_a_photo_of_something_the_shop_does_not_sell_matches_nothing(api, small_shop):
    # a photo unlike any product photo (every product photo is one flat colour): a noisy grey pattern
    rng = np.random.default_rng(1)
    pixels = (rng.random((64, 48, 3)) * 255).astype("uint8")
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG")
    body = api.post("/api/v1/search/image", {"image": _upload(buffer.getvalue())}).json()
    assert body["total"] == 0 and body["results"] == []
    red = api.post("/api/v1/search/image", {"image": _upload(jpeg_bytes(size=(48, 64), color=(220, 20, 20)))}).json()
    assert red["total"] > 0 and {item["sku"][-3:] for item in red["results"][:4]} == {"RED"}


def test_totals_and_facets_equal_the_true_match_set_on_every_page(api, small_shop):
    params = {"q": "red tent jacket", "page_size": 2}
    first = api.get("/api/v1/search", params).json()
    skus = []
    for page in range(1, 20):
        body = api.get("/api/v1/search", {**params, "page": page}).json()
        assert body["total"] == first["total"] and body["facets"] == first["facets"]
        skus += [item["sku"] for item in body["results"]]
        if len(body["results"]) < 2:
            break
    assert len(skus) == len(set(skus)) == first["total"]
    counts = Counter(value for d in SearchDocument.objects.filter(product__sku__in=skus) for value in d.facets)
    for name in ("category", "color"):
        shown = {row["value"]: row["count"] for row in first["facets"][name]}
        assert shown == {key.split("=", 1)[1]: n for key, n in counts.items() if key.startswith(f"{name}=")}


def test_keyword_members_are_the_kind_the_query_names_or_every_word(small_shop, settings):
    from search.keywords import head_position
    from search.selectors import search_products
    from search.types import SearchQuery

    settings.SEARCH_RELEVANCE_THRESHOLDS = {"text:text_vector": 2.0, "text:cross_modal": 2.0, "text:fused": 2.0}

    def members(text: str) -> list[str]:
        result = search_products(SearchQuery(text=text, page_size=100), small_shop)
        return [product["sku"] for product in result.products]

    # vectors can add nothing here (thresholds above any cosine): the match set is the keyword members.
    # "tent" names the category Tents: every tent matches, the red one first; no red product of another kind
    found = members("red tent")
    assert found[0] == "TEN-RED" and set(found) == {"TEN-RED", "TEN-BLU", "TEN-GRE", "TEN-YEL"}
    # the head is the word before a complement: "jacket for the outdoors" names jackets
    assert head_position(["jacket", "for", "the", "outdoors"]) == 0 and head_position(["red", "tent"]) == 1
    assert head_position(["pants", "32"]) == 0 and head_position(["hoodie", "size", "m"]) == 0  # never a size
    assert set(members("jacket for the outdoors")) == {"JAC-RED", "JAC-BLU", "JAC-GRE", "JAC-YEL"}
    # without the head rule, every word must match
    settings.SEARCH_KEYWORD_HEAD_MATCH = False
    assert members("red tent") == ["TEN-RED"]
    # or, lowered, the words found must carry that share of the query's idf: "red" (4 of 16 products) and "tent"
    # (4 of 16) weigh the same, so either is enough at 40%
    settings.SEARCH_KEYWORD_MIN_COVERAGE = 0.4
    assert set(members("red tent")) == {"TEN-RED", "TEN-BLU", "TEN-GRE", "TEN-YEL", "JAC-RED", "HOO-RED", "BOT-RED"}
    assert members("zzzz") == []


# --- calibration --------------------------------------------------------------------------------------------------


def test_threshold_calibration_on_synthetic_similarities_with_a_known_answer():
    rng = np.random.default_rng(7)
    unrelated = rng.normal(0.10, 0.05, size=200_000)
    matching = rng.normal(0.60, 0.05, size=2_000)

    summary = calibration._summary(matching, unrelated, nonsense_max=None)

    # the 99.5% quantile of N(0.10, 0.05) is 0.10 + 2.5758 * 0.05 = 0.2288
    assert summary["threshold"] == pytest.approx(0.2288, abs=0.003)
    assert summary["floor"] == pytest.approx(0.10, abs=0.002)
    assert summary["typical"] == pytest.approx(0.60, abs=0.005)
    # a nonsense string that comes closer than the unrelated pairs raises the threshold above it
    raised = calibration._summary(matching, unrelated, nonsense_max=0.35)
    assert raised["threshold"] == pytest.approx(0.35 + calibration.NONSENSE_MARGIN)
    # too few pairs to estimate a quantile: the defaults, marked as such
    assert calibration._summary(matching, unrelated[:5], None)["default"] is True


def test_a_built_generation_is_calibrated_and_overrides_apply(small_shop, settings):
    from search.match_set import signal_scales, thresholds_overview

    signals = small_shop.relevance["signals"]
    assert 0 < signals["photo:domain"]["threshold"] <= 1.0001  # how near a catalog photo comes to another product's
    for key in ("text:text_vector", "text:fused", "photo:image", "similar:fused"):
        values = signals[key]
        assert values["floor"] < values["threshold"] < values["typical"] or key.startswith("similar:"), key
    assert signal_scales(small_shop, "text")["text_vector"].threshold == signals["text:text_vector"]["threshold"]

    small_shop.search_fusion = {"method": "weighted", "weights": {}, "thresholds": {"text:text_vector": 0.31}}
    assert signal_scales(small_shop, "text")["text_vector"].threshold == 0.31
    settings.SEARCH_RELEVANCE_THRESHOLDS = {"text:text_vector": 0.42}
    assert signal_scales(small_shop, "text")["text_vector"].threshold == 0.42
    assert ("text:text_vector", 0.42, "settings") in thresholds_overview(small_shop)


def test_relevance_thresholds_setting_parses_or_fails_clearly():
    from shop_search.settings.search import relevance_thresholds_parse

    assert relevance_thresholds_parse("text:text_vector=0.45, photo:image=0.7") == {
        "text:text_vector": 0.45,
        "photo:image": 0.7,
    }
    with pytest.raises(ValueError, match="SEARCH_RELEVANCE_THRESHOLDS"):
        relevance_thresholds_parse("text_vector=0.4")


def _upload(data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("photo.jpg", data, content_type="image/jpeg")


def test_the_kind_a_query_names_is_the_most_specific_category_under_its_head():
    from search.keywords import TermStatistics, query_kinds

    categories = (
        ("Men", 0, frozenset({"men"})),
        ("Men/Tops", 1, frozenset({"top"})),
        ("Men/Tops/Tanks", 2, frozenset({"tank"})),
        ("Men/Tops/Hoodies & Sweatshirts", 2, frozenset({"hoodi", "sweatshirt"})),
        ("Collections/Performance Fabrics", 1, frozenset({"perform", "fabric"})),
    )
    stats = TermStatistics(documents=10, mean_length=5.0, frequencies={}, categories=categories)

    assert query_kinds(stats, {"tank", "top"}, {"top"}) == ["Men/Tops/Tanks"]  # narrowed under the head
    assert query_kinds(stats, {"red", "top"}, {"top"}) == ["Men/Tops"]
    # "performance fabric hoodie": the head names the hoodies; Performance Fabrics is not under them
    assert query_kinds(stats, {"perform", "fabric", "hoodi"}, {"hoodi"}) == ["Men/Tops/Hoodies & Sweatshirts"]
    assert query_kinds(stats, {"garden", "hose"}, {"hose"}) == []


def test_a_common_word_of_the_language_is_not_taken_for_a_typo(small_shop, settings):
    from search.spelling import current_vocabulary, is_common_word

    vocabulary = current_vocabulary()
    assert is_common_word("kettle") and not is_common_word("jaket")
    assert vocabulary.corrections("kettle") == []  # a shop without kettles, not a misspelt "bottle"
    assert vocabulary.corrections("jaket") == ["jacket"]
    settings.SEARCH_SPELLING_LANGUAGE = ""  # no word list: any unknown word may be a typo
    assert vocabulary.corrections("kettle") == ["bottle"]


def test_a_kinds_remembered_counts_follow_catalog_changes(
    api, small_shop, catalog_dir, django_capture_on_commit_callbacks
):
    # given a search for a kind (its total and facets are then remembered by the process)
    before = api.get("/api/v1/search", {"q": "tent", "page_size": 100}).json()
    assert before["total"] == 4 and {r["value"]: r["count"] for r in before["facets"]["color"]}["Red"] == 1
    # when the catalog gains a tent
    catalog_dir.add_product(sku="TEN-PNK", name="Pink tent", categories=["Outdoor/Tents"],
                            attributes={"color": "Red"}, price="99.00")  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):  # what happens when the import commits
        catalog_import(path=catalog_dir.write())
    # then the next search counts it, total and facets alike (no cached result: the query differs)
    after = api.get("/api/v1/search", {"q": "tent", "page_size": 50}).json()
    assert after["total"] == 5 and {r["value"]: r["count"] for r in after["facets"]["color"]}["Red"] == 2
    assert "TEN-PNK" in {item["sku"] for item in after["results"]}


def test_a_kinds_counts_are_counted_by_one_process_and_taken_by_the_others(api, small_shop):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    import search.spelling as spelling
    from search.selectors import process_caches_clear

    def search(q):
        with CaptureQueriesContext(connection) as queries:
            body = api.get("/api/v1/search", {"q": q, "page_size": 100}).json()
        counted = any("SELECT 'total'" in query["sql"] for query in queries.captured_queries)
        return body, counted

    # given one process that counted the tents (their total and facets)
    first, counted = search("tent")
    assert counted and first["total"] == 4
    # when another process (its own vocabulary, taken from the shared counts, and nothing remembered) searches for
    # the same kind with other words
    process_caches_clear()
    spelling._Cached.vocabulary = None
    second, counted = search("red tent")
    # then it takes the counts instead of counting the kind again, and they are the same
    assert not counted
    assert second["total"] == 4 and second["facets"]["color"] == first["facets"]["color"]


def test_similar_items_below_the_similar_threshold_are_not_shown(api, small_shop, settings):
    computed = {"k": 5, "same_category": "1"}  # computed from the vector indexes, not a stored list
    assert api.get("/api/v1/products/TEN-RED/similar", computed).json()["results"]
    settings.SEARCH_RELEVANCE_THRESHOLDS = {"similar:fused": 2.0, "similar:image": 2.0, "similar:text_vector": 2.0}
    assert api.get("/api/v1/products/TEN-RED/similar", computed).json()["results"] == []
