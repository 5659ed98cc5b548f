"""Facet and attribute setup: which attributes are facets (any attribute), their labels and order, which are
filterable and sortable; defaults that keep an unconfigured shop as it was; documents and cached results follow a
change (at once for a small catalog, on a worker with progress for a big one); labels on product pages; the staff
API and the admin page."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from catalog.models import AttributeSetting, Product
from catalog.selectors import DEFAULTS, attribute_setup, attribute_setup_clear, label_default
from catalog.services import AttributeSetupError, attribute_setup_save, catalog_import
from search import documents
from search.models import SearchDocument

pytestmark = pytest.mark.django_db


def write_shop(catalog_dir):
    """Three jackets and a tent, with attributes beyond color and size (material, eco_collection), one colour
    given only on the variants."""
    catalog_dir.add_product(sku="J1", name="Storm jacket", categories=["Outdoor/Jackets"], brand="Luma", price="80",
                            attributes={"color": ["Black", "Red"], "size": ["M"], "material": "Nylon",
                                        "eco_collection": "Yes"})  # fmt: skip
    catalog_dir.add_product(sku="J2", name="Rain jacket", categories=["Outdoor/Jackets"], brand="Luma", price="60",
                            attributes={"color": "Blue", "material": "Polyester", "eco_collection": "No"})  # fmt: skip
    catalog_dir.add_product(sku="J3", name="Wool jacket", categories=["Outdoor/Jackets"], brand="Nordic", price="120",
                            attributes={"material": "Wool"},
                            variants=[{"sku": "J3-G", "attributes": {"color": "Green"}}])  # fmt: skip
    catalog_dir.add_product(sku="T1", name="Dome tent", categories=["Outdoor/Tents"], brand="Nordic", price="200",
                            attributes={"color": "Green", "material": "Nylon"})  # fmt: skip
    return catalog_dir.write()


@pytest.fixture
def shop(catalog_dir):
    catalog_import(path=write_shop(catalog_dir))


def staff_headers(django_user_model) -> dict:
    staff = django_user_model.objects.create_user("merchandiser", password="x", is_staff=True)
    return {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=staff).key}"}


# --- defaults -------------------------------------------------------------------------------------------------


def test_an_unconfigured_shop_has_the_facets_it_always_had(api, shop):
    body = api.get("/api/v1/search", {"q": "jacket"}).json()

    assert list(body["facets"]) == ["category", "brand", "color", "size", "price", "rating"]
    assert body["facet_labels"] == [{"name": name, "label": spec.label} for name, spec in DEFAULTS.items()]
    assert [row["label"] for row in body["facet_labels"]] == ["Category", "Brand", "Color", "Size", "Price", "Rating"]
    # a colour given only on a variant counts, as the colour filter matches it
    assert {"value": "Green", "count": 1} in body["facets"]["color"]
    assert api.get("/api/v1/search", {"q": "jacket", "color": "Green"}).json()["total"] == 1


def test_labels_are_made_from_keys_nobody_named():
    assert label_default("eco_collection") == "Eco collection"
    assert label_default("erin_recommends") == "Erin recommends"
    assert label_default("color") == "Color"


def test_the_product_api_gives_labels_beside_the_raw_keys(api, shop):
    attribute_setup_save(settings=[{"name": "material", "label": "Fabric", "position": 1}])
    attribute_setup_clear()

    body = api.get("/api/v1/products/J1").json()

    assert body["attributes"]["eco_collection"] == "Yes"  # the raw keys stay, for machines
    assert body["attribute_list"] == [
        {"name": "material", "label": "Fabric", "value": "Nylon"},  # declared, by position
        {"name": "color", "label": "Color", "value": ["Black", "Red"]},
        {"name": "size", "label": "Size", "value": ["M"]},
        {"name": "eco_collection", "label": "Eco collection", "value": "Yes"},  # the rest by name
    ]
    assert body["attribute_labels"]["eco_collection"] == "Eco collection"


# --- a change --------------------------------------------------------------------------------------------------


def test_declaring_an_attribute_a_facet_refreshes_documents_and_cached_results(
    api, shop, django_capture_on_commit_callbacks
):
    # given a search whose result is cached
    first = api.get("/api/v1/search", {"q": "jacket"})
    assert first["X-Cache"] == "MISS" and "material" not in first.json()["facets"]
    assert api.get("/api/v1/search", {"q": "jacket"})["X-Cache"] == "HIT"

    # when the merchandiser makes material a facet called "Fabric", first, and stops showing size
    with django_capture_on_commit_callbacks(execute=True):
        attribute_setup_save(settings=[
            {"name": "material", "label": "Fabric", "position": 0, "facet": True},
            {"name": "size", "facet": False},
        ])  # fmt: skip

    # then the documents carry the material values, and the next search is computed again with them
    assert "material=Nylon" in SearchDocument.objects.get(product__sku="J1").facets
    second = api.get("/api/v1/search", {"q": "jacket"})
    assert second["X-Cache"] == "MISS"
    body = second.json()
    assert list(body["facets"])[0] == "material" and "size" not in body["facets"]
    assert body["facets"]["material"] == [
        {"value": "Nylon", "count": 1}, {"value": "Polyester", "count": 1}, {"value": "Wool", "count": 1}
    ]  # fmt: skip
    assert body["facet_labels"][0] == {"name": "material", "label": "Fabric"}
    # browsing counts them too, under filters
    browse = api.get("/api/v1/search", {"material": "Nylon"}).json()
    assert browse["total"] == 2 and browse["facets"]["material"] == [{"value": "Nylon", "count": 2}]
    assert documents.refresh_progress()["state"] == "done"


def test_a_facet_taken_away_leaves_the_documents(shop, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        attribute_setup_save(settings=[{"name": "color", "facet": False}])

    assert not [f for f in SearchDocument.objects.get(product__sku="J1").facets if f.startswith("color=")]
    # the category and brand values stay, whatever is shown: the keyword signal reads the categories
    with django_capture_on_commit_callbacks(execute=True):
        attribute_setup_save(settings=[{"name": "category", "facet": False}, {"name": "brand", "facet": False}])
    facets = SearchDocument.objects.get(product__sku="J1").facets
    assert "category=Outdoor/Jackets" in facets and "brand=Luma" in facets
    assert attribute_setup().facets == ("color", "size", "price", "rating")


def test_an_attribute_the_shop_does_not_let_shoppers_filter_by_is_a_clear_400(api, shop):
    assert api.get("/api/v1/search", {"q": "jacket", "material": "Wool"}).json()["total"] == 1  # filterable by default

    attribute_setup_save(settings=[{"name": "material", "filterable": False}])
    attribute_setup_clear()

    refused = api.get("/api/v1/search", {"q": "jacket", "material": "Wool"})
    assert refused.status_code == 400
    assert refused.json()["material"] == ["'material' is not a filter of this shop"]
    # the built-ins are always filterable
    attribute_setup_save(settings=[{"name": "brand", "filterable": False}])
    attribute_setup_clear()
    assert api.get("/api/v1/search", {"q": "jacket", "brand": "Nordic"}).json()["total"] == 1


def test_the_setup_is_validated():
    for settings, message in [
        ([{"name": "a=b"}], "without '='"),
        ([{"name": ""}], "must be 1-100"),
        ([{"name": "color"}, {"name": "color"}], "listed twice"),
        ([{"name": "color", "position": -1}], "from 0 to 32767"),
    ]:
        with pytest.raises(AttributeSetupError, match=message):
            attribute_setup_save(settings=settings)
    assert not AttributeSetting.objects.exists()


def test_a_setup_equal_to_what_is_stored_announces_nothing(shop, django_capture_on_commit_callbacks):
    attribute_setup_save(settings=[{"name": "material", "facet": True}])
    with django_capture_on_commit_callbacks() as callbacks:
        attribute_setup_save(settings=[{"name": "material", "facet": True}])
    assert callbacks == []


# --- staff API ----------------------------------------------------------------------------------------------------


def test_the_attribute_setup_api_lists_every_attribute_and_only_staff_change_it(
    api, shop, django_user_model, django_capture_on_commit_callbacks
):
    listed = api.get("/api/v1/attributes").json()["results"]
    by_name = {row["name"]: row for row in listed}
    assert [row["name"] for row in listed][:6] == ["category", "brand", "color", "size", "price", "rating"]
    assert by_name["material"] == {"name": "material", "label": "Material", "position": 1000, "facet": False,
                                   "filterable": True, "sortable": False, "builtin": False, "products": 4}  # fmt: skip
    assert by_name["color"]["products"] == 4 and by_name["price"]["products"] is None

    body = {"results": [{"name": "material", "label": "Fabric", "facet": True, "position": 3}]}
    assert api.put("/api/v1/attributes", body, content_type="application/json").status_code in (401, 403)
    customer = get_user_model().objects.create_user("customer", password="x")
    headers = {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=customer).key}"}
    assert api.put("/api/v1/attributes", body, content_type="application/json", **headers).status_code == 403
    assert not AttributeSetting.objects.exists()

    staff = staff_headers(django_user_model)
    with django_capture_on_commit_callbacks(execute=True):
        saved = api.put("/api/v1/attributes", body, content_type="application/json", **staff)
    assert saved.status_code == 200
    assert {row["name"]: row for row in saved.json()["results"]}["material"]["label"] == "Fabric"
    assert "material" in api.get("/api/v1/search", {"q": "jacket"}).json()["facets"]

    bad = api.put("/api/v1/attributes", {"results": [{"name": "a=b"}]}, content_type="application/json", **staff)
    assert bad.status_code == 400 and "without '='" in bad.json()["results"][0]


# --- a big catalog's refresh runs on a worker, with progress ------------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_big_catalogs_facets_are_refreshed_on_a_worker_with_progress(api, catalog_dir, live_worker, monkeypatch):
    # given a catalog "too big" to refresh inline
    catalog_import(path=write_shop(catalog_dir))
    monkeypatch.setattr(documents, "REFRESH_INLINE_MAX", 1)
    monkeypatch.setattr(documents, "REBUILD_BATCH", 2)

    # when material becomes a facet (committed: this test has no transaction around it)
    attribute_setup_save(settings=[{"name": "material", "facet": True}])

    # then a worker rewrites the facet values, reporting its progress, and search shows the facet
    deadline = time.monotonic() + 60
    while (documents.refresh_progress() or {}).get("state") != "done":
        assert time.monotonic() < deadline, documents.refresh_progress()
        time.sleep(0.2)
    progress = documents.refresh_progress()
    assert progress["done"] == progress["total"] == Product.objects.count() and progress["facets_only"]
    assert "material=Wool" in SearchDocument.objects.get(product__sku="J3").facets
    assert api.get("/api/v1/search", {"q": "jacket"}).json()["facets"]["material"]


# --- admin page ---------------------------------------------------------------------------------------------------


def test_the_facet_setup_page_is_staff_only_and_saves_the_setup(client, shop, django_capture_on_commit_callbacks):
    assert client.get("/admin/facet-setup/").status_code == 302  # to the login page
    get_user_model().objects.create_user("customer", password="x")
    client.login(username="customer", password="x")
    assert client.get("/admin/facet-setup/").status_code == 403
    get_user_model().objects.create_user("merchandiser", password="x", is_staff=True)
    client.login(username="merchandiser", password="x")

    page = client.get("/admin/facet-setup/")
    assert page.status_code == 200
    lines = page.context["lines"]
    names = [line.spec.name for line, _form in lines]
    assert names[:6] == ["category", "brand", "color", "size", "price", "rating"]
    assert set(names[6:]) == {"eco_collection", "material"}
    assert "Nylon" in page.content.decode()  # example values

    data = {"form-TOTAL_FORMS": str(len(lines)), "form-INITIAL_FORMS": str(len(lines))}
    for n, (line, _form) in enumerate(lines):
        spec = line.spec
        data.update({f"form-{n}-name": spec.name, f"form-{n}-label": spec.label, f"form-{n}-position": spec.position})
        for flag in ("facet", "filterable", "sortable"):
            if getattr(spec, flag) or (spec.name == "eco_collection" and flag == "facet"):
                data[f"form-{n}-{flag}"] = "on"
        if spec.name == "eco_collection":
            data[f"form-{n}-label"] = "Eco friendly"
    with django_capture_on_commit_callbacks(execute=True):
        saved = client.post("/admin/facet-setup/", data)
    assert saved.status_code == 302
    setup = attribute_setup()
    assert "eco_collection" in setup.facets and setup.label("eco_collection") == "Eco friendly"
    assert "eco_collection=Yes" in SearchDocument.objects.get(product__sku="J1").facets
    assert client.get("/admin/facet-setup/progress/").json()["progress"]["state"] == "done"
