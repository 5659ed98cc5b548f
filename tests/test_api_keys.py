"""Scoped API keys: search-only keys a storefront embeds (own rate limit, allowed origins, filters), admin keys for
writes, stored hashed, managed in the admin and with ``manage.py api_keys``; anonymous search configurable."""

import hashlib

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from api_keys.models import ApiKey
from api_keys.services import ApiKeyError, api_key_create
from catalog.models import Product
from catalog.services import catalog_import
from search.documents import search_documents_update

from .conftest import build_generation, write_small_catalog

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(catalog_dir):
    """16 products (4 kinds x 4 colours), searchable by keywords (no generation needed)."""
    catalog_import(path=write_small_catalog(catalog_dir))
    search_documents_update()


def skus(response) -> list[str]:
    assert response.status_code == 200, response.content
    return sorted(item["sku"] for item in response.json()["results"])


def test_a_key_is_shown_once_and_stored_only_as_its_hash():
    key, raw = api_key_create(name="storefront")
    assert raw.startswith("ss_search_") and len(raw) >= 40 and key.prefix == raw[:18]
    assert key.hashed_key == hashlib.sha256(raw.encode()).hexdigest()
    # the secret is in no column of the table
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM api_keys_apikey")
        assert not any(raw in str(value) for row in cursor.fetchall() for value in row)


def test_a_search_key_searches_but_cannot_write_and_a_bad_key_is_a_401(api, shop):
    _, raw = api_key_create(name="storefront")
    assert skus(api.get("/api/v1/search", {"q": "tent"}, HTTP_X_API_KEY=raw)) == [
        "TEN-BLU", "TEN-GRE", "TEN-RED", "TEN-YEL"
    ]  # fmt: skip
    assert api.get("/api/v1/search", {"q": "tent"}, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    write = api.patch("/api/v1/products/TEN-RED", {"price": "1"}, content_type="application/json",
                      HTTP_X_API_KEY=raw)  # fmt: skip
    assert write.status_code in (401, 403) and Product.objects.get(sku="TEN-RED").price is None
    # a made-up key is refused, not treated as anonymous
    response = api.get("/api/v1/search", {"q": "tent"}, HTTP_X_API_KEY="ss_search_made-up")
    assert response.status_code == 401 and "unknown or revoked" in response.json()["detail"]


def test_a_revoked_key_is_refused_at_once(api, shop, django_capture_on_commit_callbacks):
    key, raw = api_key_create(name="old storefront")
    assert api.get("/api/v1/search", {"q": "tent"}, HTTP_X_API_KEY=raw).status_code == 200
    assert api.get("/api/v1/search", {"q": "tent"}, HTTP_X_API_KEY=raw).status_code == 200  # the key remembered
    with django_capture_on_commit_callbacks(execute=True):  # the revocation commits
        call_command("api_keys", "revoke", key.prefix)
    assert api.get("/api/v1/search", {"q": "tent"}, HTTP_X_API_KEY=raw).status_code == 401


def test_a_search_key_is_read_once_until_a_key_changes(api, shop, django_assert_num_queries,
                                                       django_capture_on_commit_callbacks):  # fmt: skip
    from api_keys.services import api_key_find

    key, raw = api_key_create(name="storefront")
    api_key_find(raw)
    with django_assert_num_queries(0):
        assert api_key_find(raw) == key
    key.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        key.allowed_origins = ["https://shop.example.com"]
        key.save()
    with django_assert_num_queries(1):
        assert api_key_find(raw).allowed_origins == ["https://shop.example.com"]


def test_with_anonymous_search_off_every_storefront_operation_needs_a_key(api, shop, settings, django_user_model):
    settings.SEARCH_ALLOW_ANONYMOUS = False
    _, raw = api_key_create(name="storefront")
    for path in ("/api/v1/search?q=tent", "/api/v1/products", "/api/v1/products/TEN-RED", "/api/v1/categories"):
        refused = api.get(path)
        assert refused.status_code == 401 and "API key is required" in refused.json()["detail"], path
        assert api.get(path, HTTP_X_API_KEY=raw).status_code == 200, path
    assert api.post("/api/v1/search/image", {}, content_type="application/json").status_code == 401
    assert api.post("/api/v1/events", {}, content_type="application/json").status_code == 401
    # staff tokens still work
    staff = django_user_model.objects.create_user("ops", password="x", is_staff=True)
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=staff)
    assert api.get("/api/v1/search", {"q": "tent"}, HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 200


def test_each_search_key_has_its_own_rate_per_client_address(api, shop, settings):
    settings.SEARCH_ANON_RATE = "100/min"
    _, slow = api_key_create(name="partner widget", rate="2/min")
    codes = [api.get("/api/v1/search", {"q": "tent"}, HTTP_X_API_KEY=slow).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    # another shopper's address has its own count under the same key, and anonymous clients keep theirs
    assert api.get("/api/v1/search", {"q": "tent"}, HTTP_X_API_KEY=slow, REMOTE_ADDR="10.1.1.1").status_code == 200
    assert api.get("/api/v1/search", {"q": "tent"}).status_code == 200


def test_a_key_with_allowed_origins_answers_those_sites_only_with_cors_headers(api, shop):
    _, raw = api_key_create(name="storefront", allowed_origins=["https://shop.example.com"])
    allowed = api.get("/api/v1/search", {"q": "tent"}, HTTP_X_API_KEY=raw, HTTP_ORIGIN="https://shop.example.com")
    assert allowed.status_code == 200
    assert allowed["Access-Control-Allow-Origin"] == "https://shop.example.com" and "Origin" in allowed["Vary"]
    other = api.get("/api/v1/search", {"q": "tent"}, HTTP_X_API_KEY=raw, HTTP_ORIGIN="https://evil.example")
    assert other.status_code == 403 and "Access-Control-Allow-Origin" not in other
    assert "shop.example.com only" in other.json()["detail"]
    # the Referer stands in for a missing Origin; neither is refused
    referred = api.get("/api/v1/search", {"q": "tent"}, HTTP_X_API_KEY=raw,
                       HTTP_REFERER="https://shop.example.com/women/tops?page=2")  # fmt: skip
    assert referred.status_code == 200
    assert api.get("/api/v1/search", {"q": "tent"}, HTTP_X_API_KEY=raw).status_code == 403
    # a browser's preflight is answered (it carries no key; the request that follows is checked)
    preflight = api.options("/api/v1/search", HTTP_ORIGIN="https://shop.example.com",
                            HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
                            HTTP_ACCESS_CONTROL_REQUEST_HEADERS="x-api-key")  # fmt: skip
    assert preflight.status_code == 204 and "X-Api-Key" in preflight["Access-Control-Allow-Headers"]
    # without a key, no CORS headers: anonymous use stays same-site
    assert "Access-Control-Allow-Origin" not in api.get("/api/v1/search", {"q": "tent"},
                                                        HTTP_ORIGIN="https://shop.example.com")  # fmt: skip


def test_a_keys_filters_hold_every_search_it_makes(api, shop):
    _, raw = api_key_create(name="red shop", filters={"color": "Red", "category": "Outdoor"})
    # the key's filters apply without being asked for, facets and total included
    response = api.get("/api/v1/search", {"q": "tent"}, HTTP_X_API_KEY=raw)
    assert skus(response) == ["TEN-RED"] and response.json()["total"] == 1
    assert {v["value"] for v in response.json()["facets"].get("color", [])} <= {"Red"}
    # a client can narrow them (a subcategory) but not widen them (another colour replaced by the key's)
    assert skus(api.get("/api/v1/search", {"color": "Blue"}, HTTP_X_API_KEY=raw)) == [
        "BOT-RED", "HOO-RED", "JAC-RED", "TEN-RED"
    ]  # fmt: skip
    assert skus(api.get("/api/v1/search", {"category": "Outdoor/Tents"}, HTTP_X_API_KEY=raw)) == ["TEN-RED"]
    # a cached answer for the same query without the key does not leak into it, nor the other way round
    assert len(skus(api.get("/api/v1/search", {"q": "tent"}))) == 4
    assert skus(api.get("/api/v1/search", {"q": "tent"}, HTTP_X_API_KEY=raw)) == ["TEN-RED"]


def test_a_keys_filters_hold_similar_items_too(api, catalog_dir):
    catalog_import(path=write_small_catalog(catalog_dir))
    build_generation()
    _, raw = api_key_create(name="tents only", filters={"category": "Outdoor/Tents"})
    response = api.get("/api/v1/products/TEN-RED/similar", {"k": 10}, HTTP_X_API_KEY=raw)
    assert response.status_code == 200
    similar = [item["sku"] for item in response.json()["results"]]
    assert similar and all(sku.startswith("TEN-") for sku in similar)
    assert any(not item["sku"].startswith("TEN-")
               for item in api.get("/api/v1/products/TEN-RED/similar", {"k": 10}).json()["results"])  # fmt: skip


def test_an_admin_key_writes_as_its_staff_user_until_the_user_loses_staff(api, shop, django_user_model):
    staff = django_user_model.objects.create_user("ops", password="x", is_staff=True)
    _, raw = api_key_create(name="ERP sync", scope=ApiKey.Scope.ADMIN, user=staff)
    assert raw.startswith("ss_admin_")
    response = api.patch("/api/v1/products/TEN-RED", {"price": "99"}, content_type="application/json",
                         HTTP_X_API_KEY=raw)  # fmt: skip
    assert response.status_code == 200 and response.json()["price"] == "99.00"
    staff.is_staff = False
    staff.save()
    response = api.patch("/api/v1/products/TEN-RED", {"price": "1"}, content_type="application/json",
                         HTTP_X_API_KEY=raw)  # fmt: skip
    assert response.status_code == 401 and str(Product.objects.get(sku="TEN-RED").price) == "99.00"


@pytest.mark.parametrize(
    "options, message",
    [
        ({"rate": "5/fortnight"}, "bad rate"),
        ({"allowed_origins": ["https://shop.example.com/path"]}, "is not an origin"),
        ({"filters": {"price_min": "-1"}}, "'price_min' must be from 0"),
        ({"filters": {"color": ""}}, "non-empty value"),
        ({"scope": "admin"}, "active staff user"),
        ({"scope": "admin", "rate": "5/min"}, "takes no rate"),
        ({"scope": "root"}, "scope must be one of"),
        ({"allowed_origins": ["https://" + "x" * 300 + ".example"]}, "is not an origin"),
    ],
)
def test_a_key_that_cannot_work_is_refused_when_created(options, message):
    with pytest.raises(ApiKeyError, match=message):
        api_key_create(name="k", **options)
    assert not ApiKey.objects.exists()


def test_the_command_creates_lists_and_revokes_keys(capsys, django_user_model):
    call_command("api_keys", "create", "--name", "storefront", "--rate", "50/min", "--origin",
                 "https://shop.example.com", "--filter", "color=Red", "--filter", "in_stock=true")  # fmt: skip
    raw = capsys.readouterr().out.splitlines()[1]
    key = ApiKey.objects.get()
    assert raw.startswith(key.prefix) and key.filters == {"in_stock": True, "attributes": [["color", "Red"]]}
    assert (key.rate, key.allowed_origins) == ("50/min", ["https://shop.example.com"])
    call_command("api_keys", "list")
    listing = capsys.readouterr().out
    assert key.prefix in listing and raw not in listing and "active" in listing
    with pytest.raises(CommandError, match="acts as an active staff user"):
        call_command("api_keys", "create", "--name", "erp", "--scope", "admin")
    call_command("api_keys", "revoke", str(key.pk))
    assert ApiKey.objects.get().revoked_at is not None


def test_the_admin_creates_a_key_shows_it_once_and_revokes_it(client, django_user_model):
    admin_user = django_user_model.objects.create_superuser("boss", password="x")
    client.force_login(admin_user)
    response = client.post("/admin/api_keys/apikey/add/", {
        "name": "storefront", "scope": "search", "user": "", "rate": "100/min",
        "allowed_origins": "https://shop.example.com", "filters": '{"color": "Red"}',
    }, follow=True)  # fmt: skip
    assert response.status_code == 200
    key = ApiKey.objects.get()
    shown = [str(m) for m in response.context["messages"]]
    raw = next(word for message in shown for word in message.split() if word.startswith("ss_search_"))
    assert hashlib.sha256(raw.encode()).hexdigest() == key.hashed_key
    assert key.filters == {"attributes": [["color", "Red"]]}
    # the list and the key's page never show the secret again
    assert raw not in client.get("/admin/api_keys/apikey/").content.decode()
    assert raw not in client.get(f"/admin/api_keys/apikey/{key.pk}/change/").content.decode()
    # a bad origin is a form error, and nothing is created
    form = {"name": "x", "scope": "search", "rate": "", "allowed_origins": "shop.example.com", "filters": "{}"}
    bad = client.post("/admin/api_keys/apikey/add/", form)
    assert bad.status_code == 200 and "is not an origin" in bad.content.decode() and ApiKey.objects.count() == 1
    client.post("/admin/api_keys/apikey/", {"action": "revoke_selected", "_selected_action": [key.pk]})
    assert ApiKey.objects.get().revoked_at is not None


def test_a_keys_filters_hold_catalog_reads_too(api, shop):
    _, raw = api_key_create(name="tents only", filters={"category": "Outdoor/Tents"})
    listing = api.get("/api/v1/products", HTTP_X_API_KEY=raw).json()
    assert listing["count"] == 4 and all(item["sku"].startswith("TEN-") for item in listing["results"])
    assert api.get("/api/v1/products/TEN-RED", HTTP_X_API_KEY=raw).status_code == 200
    assert api.get("/api/v1/products/HOO-BLU", HTTP_X_API_KEY=raw).status_code == 404
    assert api.get("/api/v1/products/HOO-BLU/similar", HTTP_X_API_KEY=raw).status_code == 404
    assert api.get("/api/v1/products/HOO-BLU").status_code == 200  # others are not held to the key's filters


def test_made_up_keys_are_throttled_like_anonymous_clients(api, shop, settings):
    settings.SEARCH_ANON_RATE = "3/min"
    codes = [api.get("/api/v1/search", {"q": "tent"}, HTTP_X_API_KEY=f"ss_search_guess{n}").status_code
             for n in range(5)]  # fmt: skip
    assert codes == [401, 401, 401, 429, 429]


def test_answers_vary_with_the_key_and_keyed_ones_are_private(api, shop):
    _, raw = api_key_create(name="storefront")
    anonymous = api.get("/api/v1/search", {"q": "tent"})
    assert {"X-Api-Key", "Authorization"} <= {v.strip() for v in anonymous["Vary"].split(",")}
    assert "private" not in anonymous.get("Cache-Control", "")
    keyed = api.get("/api/v1/search", {"q": "tent"}, HTTP_X_API_KEY=raw)
    assert "private" in keyed["Cache-Control"]


def test_ipv6_clients_share_a_count_per_64_network(api, shop, settings):
    settings.SEARCH_ANON_RATE = "2/min"
    codes = [api.get("/api/v1/search", {"q": "tent"}, REMOTE_ADDR=f"2001:db8:1:2::{n:x}").status_code
             for n in range(1, 4)]  # fmt: skip
    assert codes == [200, 200, 429]
    assert api.get("/api/v1/search", {"q": "tent"}, REMOTE_ADDR="2001:db8:1:3::1").status_code == 200
