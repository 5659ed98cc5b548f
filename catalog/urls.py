"""Storefront API routes (``/api/v1/``): catalog reads, search, similar items, events."""

from django.urls import path

from recommendations.apis import SimilarApi
from search.apis import EventApi, ImageSearchApi, SearchApi

from .apis import CategoryListApi, ProductDetailApi, ProductListApi

urlpatterns = [
    path("products", ProductListApi.as_view(), name="product-list"),
    path("products/<str:sku>", ProductDetailApi.as_view(), name="product-detail"),
    path("products/<str:sku>/similar", SimilarApi.as_view(), name="product-similar"),
    path("categories", CategoryListApi.as_view(), name="category-list"),
    path("search", SearchApi.as_view(), name="search"),
    path("search/image", ImageSearchApi.as_view(), name="search-image"),
    path("events", EventApi.as_view(), name="events"),
]
