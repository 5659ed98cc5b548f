"""Staff pages (Django test client): who may see them, the catalog admin and its actions, embedding operations,
search analytics, the playground, and the public storefront pages."""

import io
import json
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from catalog.models import Product, ProductImage
from catalog.services import catalog_import
from embeddings.models import EmbeddingGeneration, Job, ProductEmbedding, TrainedHead
from embeddings.services import embedding as embedding_service
from embeddings.services.freshness import products_embed_now
from search.models import SearchEvent, SearchLog

from .conftest import build_generation, jpeg_bytes, write_small_catalog

pytestmark = pytest.mark.django_db

STAFF_PAGES = [
    "/admin/",
    "/admin/catalog/product/",
    "/admin/operations/",
    "/admin/operations/jobs/",
    "/admin/analytics/",
    "/admin/playground/",
    "/admin/catalog-quality/",
    "/admin/suggestions/",
]


def client_for(user=None, **kwargs) -> Client:
    client = Client(HTTP_HOST="localhost", **kwargs)
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def staff():
    return get_user_model().objects.create_user("staff", password="pw", is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(staff):
    return client_for(staff)


_trained_head: dict = {}


@pytest.fixture
def shop(catalog_dir):
    """The 16-product catalog with an active generation; the alignment head is trained once for the module (it
    takes seconds) and copied into each test's database."""
    catalog_import(path=write_small_catalog(catalog_dir))
    if _trained_head:
        TrainedHead.objects.create(**_trained_head)
    generation = build_generation()
    head = generation.head
    _trained_head.update(encoder_spec=head.encoder_spec, config=head.config, report=head.report,
                         weights=bytes(head.weights), joint_dim=head.joint_dim)  # fmt: skip
    return generation


# --- access -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", STAFF_PAGES)
def test_anonymous_visitors_get_the_login_page(url):
    response = client_for().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("url", STAFF_PAGES)
def test_signed_in_users_who_are_not_staff_get_403(url):
    shopper = get_user_model().objects.create_user("shopper", password="pw")
    assert client_for(shopper).get(url).status_code == 403


@pytest.mark.parametrize("url", STAFF_PAGES)
def test_staff_see_every_page(staff_client, url):
    assert staff_client.get(url).status_code == 200


def test_operations_change_state_only_by_post_from_staff_with_a_csrf_token(staff):
    shopper = get_user_model().objects.create_user("shopper", password="pw")
    url = "/admin/operations/run/"
    assert client_for().post(url, {"action": "train"}).status_code == 302  # to the login page
    assert client_for(shopper).post(url, {"action": "train"}).status_code == 403
    assert client_for(staff).get(url, {"action": "train"}).status_code == 405
    assert client_for(staff, enforce_csrf_checks=True).post(url, {"action": "train"}).status_code == 403
    assert not Job.objects.exists()

    # with the page's token it works
    client = client_for(staff, enforce_csrf_checks=True)
    page = client.get("/admin/operations/")
    token = page.context["csrf_token"]
    assert client.post(url, {"action": "train", "csrfmiddlewaretoken": str(token)}).status_code == 302
    assert Job.objects.get().kind == Job.Kind.TRAIN


def test_logout_still_works_for_users_who_are_not_staff():
    shopper = get_user_model().objects.create_user("shopper", password="pw")
    response = client_for(shopper).post("/admin/logout/")
    assert response.status_code in (200, 302)


# --- catalog admin ------------------------------------------------------------------------------------------------


def test_product_list_shows_photos_status_and_photo_errors(staff_client, shop):
    Product.objects.filter(sku="TEN-RED").update(embeddings_stale=True)
    Product.objects.filter(sku="TEN-BLU").update(embedding_error="ValueError: no text")
    ProductImage.objects.filter(product__sku="JAC-RED", position=1).update(error="corrupt or truncated image")

    page = staff_client.get("/admin/catalog/product/").content.decode()
    assert page.count('<img src="/media/photos/') == 16
    assert "failed: ValueError: no text" in page and ">stale<" in page and ">fresh<" in page

    def skus(query: str) -> list[str]:
        response = staff_client.get("/admin/catalog/product/?" + query)
        return sorted(p.sku for p in response.context["cl"].result_list)

    assert skus("embedding=failed") == ["TEN-BLU"]
    assert skus("embedding=stale") == ["TEN-RED"]
    assert len(skus("embedding=fresh")) == 14
    assert skus("photo_errors=yes") == ["JAC-RED"]
    assert skus("q=yellow+tent") == ["TEN-YEL"]
    assert skus("in_stock__exact=1&q=tent") == ["TEN-BLU", "TEN-GRE", "TEN-RED", "TEN-YEL"]

    change = staff_client.get(f"/admin/catalog/product/{Product.objects.get(sku='JAC-RED').pk}/change/")
    assert change.status_code == 200
    assert {"images", "variants", "reviews"} <= {
        inline.formset.prefix for inline in change.context["inline_admin_formsets"]
    }


def test_mark_stale_and_reembed_actions_go_through_the_services(staff_client, shop, django_capture_on_commit_callbacks):
    from embeddings import tasks

    queued = []
    ids = list(Product.objects.filter(sku__startswith="TEN").values_list("id", flat=True))
    Product.objects.filter(id__in=ids).update(embedding_error="old error")

    with django_capture_on_commit_callbacks(execute=False):
        staff_client.post("/admin/catalog/product/", {"action": "mark_stale", "_selected_action": ids[:2]})
    assert Product.objects.filter(embeddings_stale=True).count() == 2

    original = tasks.embed_products_task.delay
    tasks.embed_products_task.delay = lambda product_ids: queued.append(product_ids)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = staff_client.post("/admin/catalog/product/", {"action": "reembed_selected",
                                                                     "_selected_action": ids})  # fmt: skip
    finally:
        tasks.embed_products_task.delay = original
    assert response.status_code == 302
    assert queued == [sorted(ids)]
    assert set(Product.objects.filter(embeddings_stale=True).values_list("id", flat=True)) == set(ids)
    assert not Product.objects.exclude(embedding_error="").exists()  # a re-embed starts clean

    # what the queued task runs: embeds them into the active generation and clears the flag
    assert products_embed_now(product_ids=ids) == 4
    assert not Product.objects.filter(embeddings_stale=True).exists()


def test_a_product_that_fails_to_embed_keeps_its_error_and_the_others_are_embedded(shop, monkeypatch):
    bad = Product.objects.get(sku="HOO-GRE")
    ids = list(Product.objects.filter(sku__startswith="HOO").values_list("id", flat=True))
    Product.objects.filter(id__in=ids).update(embeddings_stale=True)
    real = embedding_service.products_embed

    def flaky(*, generation, product_ids):
        if bad.pk in product_ids:
            raise ValueError("the text encoder refused this product")
        return real(generation=generation, product_ids=product_ids)

    monkeypatch.setattr(embedding_service, "products_embed", flaky)
    products_embed_now(product_ids=ids)

    assert list(Product.objects.filter(embeddings_stale=True).values_list("sku", flat=True)) == ["HOO-GRE"]
    assert Product.objects.get(pk=bad.pk).embedding_error == "ValueError: the text encoder refused this product"


# --- embedding operations -----------------------------------------------------------------------------------------


def test_operations_page_lists_generations_and_jobs(staff_client, shop):
    Job.objects.create(kind=Job.Kind.BUILD, state=Job.State.FAILED, error="RuntimeError: out of disk")
    running = Job.objects.create(kind=Job.Kind.BUILD, state=Job.State.RUNNING, done=30, total=120,
                                 started_at=timezone.now() - timedelta(seconds=10))  # fmt: skip

    response = staff_client.get("/admin/operations/")
    page = response.content.decode()
    generation = response.context["generations"][0]
    assert generation.pk == shop.pk and generation.product_count == 16 and generation.with_photo_count == 16
    assert "16 / 16" in page and "hashing + pixel-stats" in page and "0.50 / 0.50" in page
    assert "RuntimeError: out of disk" in page
    # the generation's relevance thresholds, calibrated when it was built
    threshold = shop.relevance["signals"]["text:text_vector"]["threshold"]
    shown = page[page.index('class="thresholds"') :][:2000]
    assert any(f"text:text_vector {threshold + nudge:.3f} <small>(calibrated)" in shown for nudge in (-5e-4, 0, 5e-4))

    status = staff_client.get("/admin/operations/jobs/").json()
    assert status["active"] is True
    row = next(job for job in status["jobs"] if job["id"] == running.pk)
    assert row["percent"] == 25.0 and row["state"] == "running" and row["eta_seconds"] is not None


def test_build_activate_and_rollback_buttons(staff_client, shop, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = staff_client.post("/admin/operations/run/", {"action": "build", "image_weight": "0.7",
                                                                "text_weight": "0.3", "activate": "on"})  # fmt: skip
    assert response.status_code == 302 and len(callbacks) == 1  # the worker gets it after commit
    job = Job.objects.get(kind=Job.Kind.BUILD, state=Job.State.QUEUED)
    assert job.options == {"activate": True, "train": False, "image_weight": 0.7, "text_weight": 0.3}

    second = build_generation(activate=False)
    assert second.state == EmbeddingGeneration.State.READY
    staff_client.post("/admin/operations/run/", {"action": "activate", "generation": second.pk})
    assert EmbeddingGeneration.objects.get(state="active") == second
    staff_client.post("/admin/operations/run/", {"action": "rollback"})
    assert EmbeddingGeneration.objects.get(state="active") == shop

    response = staff_client.post("/admin/operations/run/", {"action": "activate", "generation": 9999}, follow=True)
    assert "there is no generation 9999" in [str(m) for m in response.context["messages"]]


# --- analytics ----------------------------------------------------------------------------------------------------


def test_analytics_page_shows_tables_and_svg_charts_for_the_chosen_range(staff_client):
    now = timezone.now()
    search = SearchLog.objects.create(kind="text", query="Tent", normalized_query="tent", result_count=3,
                                      latency_ms=12.0, cache_hit=True, created_at=now)  # fmt: skip
    SearchEvent.objects.create(search=search, type="click", sku="A")
    SearchLog.objects.create(kind="text", query="zzz", normalized_query="zzz", result_count=0, latency_ms=4.0,
                             created_at=now - timedelta(days=20))  # fmt: skip

    page = staff_client.get("/admin/analytics/").content.decode()
    assert page.count('<svg class="chart"') == 2 and "Searches per day" in page
    assert 'id="searches">1<' in page and 'id="cache-hit-rate">100%<' in page
    assert "zzz" not in page  # older than the default 7 days

    today = now.date()
    page = staff_client.get("/admin/analytics/", {"start": str(today - timedelta(days=30)), "end": str(today)})
    assert "zzz" in page.content.decode() and 'id="searches">2<' in page.content.decode()
    one_day = staff_client.get("/admin/analytics/", {"start": str(today), "end": str(today)}).content.decode()
    assert "Searches per hour" in one_day


# --- playground ---------------------------------------------------------------------------------------------------


def test_playground_shows_signals_and_what_a_weight_override_changes(staff_client, shop):
    response = staff_client.get("/admin/playground/", {"q": "red tent", "w_fulltext": "0", "w_fused": "5"})
    comparison = response.context["comparison"]
    assert comparison is not None and comparison.fusion.weights["fused"] == 5
    assert comparison.default_fusion.weights["fused"] == 1.0  # the public defaults are untouched
    hit = comparison.hits[0]
    assert hit.default_rank is not None and "fused" in hit.signals
    page = response.content.decode()
    assert 'id="playground-results"' in page and "default rank" in page

    plain = staff_client.get("/admin/playground/", {"q": "tent", "color": "Red"})
    assert plain.context["comparison"].fusion is None

    filtered = staff_client.get("/admin/playground/", {"q": "tent", "attributes": "color=Red"})
    skus = [h.product["sku"] for h in filtered.context["comparison"].hits]
    assert skus[0] == "TEN-RED" and all(sku.endswith("-RED") for sku in skus)

    bad = staff_client.get("/admin/playground/", {"q": "tent", "attributes": "flavour=Mint"})
    assert bad.context["comparison"] is None and "unknown filter" in bad.content.decode()


def test_playground_photo_search(staff_client, shop):
    photo = io.BytesIO(jpeg_bytes(size=(48, 64), color=(20, 40, 220)))
    photo.name = "blue.jpg"
    response = staff_client.post("/admin/playground/", {"photo": photo})
    hits = response.context["comparison"].hits
    assert hits and "image" in hits[0].signals
    assert hits[0].product["sku"].endswith("BLU")


# --- storefront pages ---------------------------------------------------------------------------------------------


def test_storefront_pages_are_public_and_use_only_local_assets(client):
    home = client.get("/", HTTP_HOST="localhost")
    page = home.content.decode()
    assert home.status_code == 200 and 'id="search-form"' in page and 'id="photo-input"' in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org', "") and "https://" not in page
    assert "csrftoken" in home.cookies
    product = client.get("/products/TEN-RED/", HTTP_HOST="localhost")
    assert product.status_code == 200 and 'data-sku="TEN-RED"' in product.content.decode()


def test_job_payload_is_plain_json(staff_client, shop):
    Job.objects.create(kind=Job.Kind.TRAIN, state=Job.State.DONE)
    body = staff_client.get("/admin/operations/jobs/").content
    assert json.loads(body)["jobs"][0]["percent"] == 100.0
    assert ProductEmbedding.objects.filter(generation=shop).count() == 16


def test_editing_a_product_in_the_admin_updates_what_search_shows(
    staff_client, shop, django_capture_on_commit_callbacks
):
    from search.cache import cache_key, cache_result, cached_result
    from search.models import SearchDocument

    product = Product.objects.get(sku="TEN-RED")
    key = cache_key({"q": "tent"}, shop.pk)
    cache_result(key, {"results": []}, [product.pk])
    data = {
        "sku": product.sku, "name": "Storm shelter", "description": product.description, "price": "99.50",
        "currency": "USD", "in_stock": "on", "brand": product.brand, "attributes": json.dumps(product.attributes),
        "primary_category": product.primary_category_id or "",
    }  # fmt: skip
    for prefix in ("images", "variants", "reviews"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(f"/admin/catalog/product/{product.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]

    document = SearchDocument.objects.get(product=product)
    assert document.card["name"] == "Storm shelter" and document.card["price"] == "99.50"
    assert str(document.price) == "99.50"
    assert "storm" in str(document.document)
    assert cached_result(key) is None  # results containing it are gone
    product.refresh_from_db()
    assert product.embeddings_stale
