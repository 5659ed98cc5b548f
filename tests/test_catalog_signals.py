"""The catalog is the ground floor: it imports none of the apps built on it, and announces its changes
(``catalog.signals``), on which search and embeddings act as they did when the catalog called them."""

import ast
from pathlib import Path

import pytest
from django.db import transaction
from django.urls import resolve, reverse

from catalog.models import Product
from catalog.services import products_changed, products_deleted
from search.cache import cache_key, cache_result, cached_result
from search.models import SearchDocument

from .factories import ProductFactory

CATALOG = Path(__file__).resolve().parent.parent / "catalog"
UPPER_APPS = {"search", "embeddings", "recommendations", "evaluation", "dashboard", "storefront"}


def imported_modules(path: Path) -> set[str]:
    """Every absolute module a file imports, at any depth (function-level imports too)."""
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
    return modules


def test_catalog_imports_none_of_the_apps_built_on_it():
    files = [path for path in CATALOG.rglob("*.py") if "migrations" not in path.parts]
    assert CATALOG / "services.py" in files and CATALOG / "admin.py" in files and CATALOG / "urls.py" in files
    offending = {
        f"{path.relative_to(CATALOG.parent)}: {module}"
        for path in files
        for module in imported_modules(path)
        if module.split(".")[0] in UPPER_APPS
    }
    assert not offending


@pytest.mark.django_db
def test_a_product_change_updates_its_document_marks_it_stale_and_drops_cached_results_on_commit(
    django_capture_on_commit_callbacks,
):
    from search.spelling import VOCABULARY_VERSION_KEY, cache

    # given a product with a document, fresh vectors and a cached result that shows it
    product = ProductFactory(name="Alpine tent")
    products_changed(product_ids=[product.pk])
    Product.objects.filter(pk=product.pk).update(embeddings_stale=False)
    key = cache_key({"q": "tent"}, None)
    cache_result(key, {"results": []}, [product.pk])
    version = cache.get(VOCABULARY_VERSION_KEY)
    content_version = Product.objects.get(pk=product.pk).content_version

    # when it changes inside a transaction
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            Product.objects.filter(pk=product.pk).update(name="Storm shelter")
            products_changed(product_ids=[product.pk])
        # then the document and the stale flag are written in that transaction, the cache waits for the commit
        assert "storm" in str(SearchDocument.objects.get(product=product).document)
        product.refresh_from_db()
        assert product.embeddings_stale and product.content_version == content_version + 1
        assert cached_result(key) is not None
        assert cache.get(VOCABULARY_VERSION_KEY) == version
    # (the commit hooks: queue the stale embedding, drop cached results, bump the vocabulary version, make this
    # process's suggestion index look at it)
    assert len(callbacks) == 4

    assert cached_result(key) is None
    assert cache.get(VOCABULARY_VERSION_KEY) != version


@pytest.mark.django_db
def test_a_rolled_back_change_leaves_documents_flags_and_cache_alone(django_capture_on_commit_callbacks):
    product = ProductFactory(name="Alpine tent")
    products_changed(product_ids=[product.pk])
    Product.objects.filter(pk=product.pk).update(embeddings_stale=False)
    key = cache_key({"q": "tent"}, None)
    cache_result(key, {"results": []}, [product.pk])

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        Product.objects.filter(pk=product.pk).update(name="Storm shelter")
        products_changed(product_ids=[product.pk])
        raise RuntimeError("the write fails after the announcement")
    assert callbacks == []

    assert "alpin" in str(SearchDocument.objects.get(product=product).document)
    assert not Product.objects.get(pk=product.pk).embeddings_stale
    assert cached_result(key) is not None


@pytest.mark.django_db
def test_deleted_products_leave_no_cached_results(django_capture_on_commit_callbacks):
    product = ProductFactory()
    key = cache_key({"q": "anything"}, None)
    cache_result(key, {"results": []}, [product.pk])
    ids = [product.pk]

    with django_capture_on_commit_callbacks(execute=True):
        Product.objects.filter(pk__in=ids).delete()
        products_deleted(product_ids=ids)

    assert cached_result(key) is None


def test_storefront_api_routes_keep_their_paths_and_names():
    from recommendations.apis import SimilarApi
    from search.apis import EventApi, ImageSearchApi, SearchApi

    routes = {
        "search": ("/api/v1/search", (), SearchApi),
        "search-image": ("/api/v1/search/image", (), ImageSearchApi),
        "events": ("/api/v1/events", (), EventApi),
        "product-similar": ("/api/v1/products/TEN-RED/similar", ("TEN-RED",), SimilarApi),
        "product-detail": ("/api/v1/products/TEN-RED", ("TEN-RED",), None),
        "product-list": ("/api/v1/products", (), None),
        "category-list": ("/api/v1/categories", (), None),
    }
    for name, (url, args, view) in routes.items():
        assert reverse(name, args=args) == url
        match = resolve(url)
        assert match.url_name == name
        if view is not None:
            assert match.func.view_class is view
