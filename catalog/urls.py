"""Catalog routes of the storefront API (``/api/v1/``): products, categories and the attribute setup. Search,
events and similar items are routed by their own apps (``search/urls.py``, ``recommendations/urls.py``) under the
same prefix."""

from django.urls import path

from .apis import AttributeSetupApi, CategoryListApi, ProductDetailApi, ProductListApi

urlpatterns = [
    path("products", ProductListApi.as_view(), name="product-list"),
    path("products/<str:sku>", ProductDetailApi.as_view(), name="product-detail"),
    path("categories", CategoryListApi.as_view(), name="category-list"),
    path("attributes", AttributeSetupApi.as_view(), name="attribute-setup"),
]
