"""Hostile input: NUL bytes and invalid text anywhere in a request, bodies that are not JSON objects, made-up
client addresses against the throttle."""

import json

import pytest
from django.test import override_settings
from rest_framework.authtoken.models import Token

from catalog.models import Product

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/search?q=hoodie&color=Black%00", "color"),
        ("/api/v1/search?q=a%00", "q"),
        ("/api/v1/products/MH%0001", "path"),
        ("/api/v1/products/MH%0001/similar", "path"),
    ],
)
def test_a_nul_byte_anywhere_in_a_request_is_a_400_with_the_field(api, path, field):
    response = api.get(path)
    assert response.status_code == 400 and field in response.json() and response.json()["status"] == 400


@pytest.mark.parametrize("body", ["[]", '"abc"', "5", "null", "[null, null]"])
def test_a_json_body_that_is_not_an_object_is_a_400(api, body):
    response = api.post("/api/v1/search/image", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["non_field_errors"] == ["the request body must be a JSON object"]


def test_a_nul_byte_in_a_json_field_is_refused_and_nothing_is_written(api, django_user_model):
    staff = django_user_model.objects.create_user("ops", password="x", is_staff=True)
    token = Token.objects.create(user=staff)
    body = json.dumps({"name": "a\u0000b", "price": "1", "attributes": {"color": ["ok", "b\ud800"]}})
    response = api.put("/api/v1/products/ZZ", body, content_type="application/json",
                       HTTP_AUTHORIZATION=f"Token {token.key}")  # fmt: skip
    assert response.status_code == 400 and "name" in response.json()
    assert not Product.objects.filter(sku="ZZ").exists()
    body = json.dumps({"name": "fine", "price": "1", "attributes": {"color": ["ok", "b\ud800"]}})
    response = api.put("/api/v1/products/ZZ", body, content_type="application/json",
                       HTTP_AUTHORIZATION=f"Token {token.key}")  # fmt: skip
    assert response.status_code == 400 and "attributes.color[1]" in response.json()


def test_made_up_forwarded_addresses_do_not_escape_the_rate_limit(api, settings):
    settings.SEARCH_ANON_RATE = "3/min"
    codes = [
        api.get("/api/v1/search", {"q": "tent"}, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code for n in range(4)
    ]
    assert codes == [200, 200, 200, 429]  # X-Forwarded-For is ignored without trusted proxies


def test_behind_a_trusted_proxy_each_client_has_its_own_limit(api, settings):
    settings.SEARCH_ANON_RATE = "3/min"
    with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}):
        codes = [
            api.get("/api/v1/search", {"q": "tent"}, HTTP_X_FORWARDED_FOR=f"198.51.100.{n % 2}").status_code
            for n in range(7)
        ]
    # two clients seen by the proxy, three requests each allowed; the seventh is the first client's fourth
    assert codes == [200, 200, 200, 200, 200, 200, 429]


def test_an_oversized_description_is_refused_by_the_api(api, django_user_model):
    staff = django_user_model.objects.create_user("ops", password="x", is_staff=True)
    token = Token.objects.create(user=staff)
    body = json.dumps({"name": "Big", "price": "1", "description": "x" * 5_000_000})
    response = api.put("/api/v1/products/BIG", body, content_type="application/json",
                       HTTP_AUTHORIZATION=f"Token {token.key}")  # fmt: skip
    assert response.status_code in (400, 413) and not Product.objects.filter(sku="BIG").exists()
    body = json.dumps({"name": "Big", "price": "1", "description": "x" * 100_001})
    response = api.put("/api/v1/products/BIG", body, content_type="application/json",
                       HTTP_AUTHORIZATION=f"Token {token.key}")  # fmt: skip
    assert response.status_code == 400 and "at most 100000 allowed" in json.dumps(response.json())


def test_the_schema_says_what_the_api_does(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    page = paths["/api/v1/products"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert page == {"$ref": "#/components/schemas/ProductPageOutput"}  # a page object, as the API answers
    assert set(schema["components"]["schemas"]["ProductPageOutput"]["properties"]) == {"count", "next", "previous",
                                                                                     "results"}  # fmt: skip
    names = [p["name"] for p in paths["/api/v1/search"]["get"]["parameters"]]
    assert "<attribute>" not in names and "attributes" in names
    [k] = [p for p in paths["/api/v1/products/{sku}/similar"]["get"]["parameters"] if p["name"] == "k"]
    assert (k["schema"]["minimum"], k["schema"]["maximum"]) == (1, 50)
    assert {"400", "409", "413", "415"} <= set(paths["/api/v1/search/image"]["post"]["responses"])
    assert {"400", "401", "403", "413"} <= set(paths["/api/v1/products/{sku}"]["put"]["responses"])
