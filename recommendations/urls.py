"""Similar-items route of the storefront API (``/api/v1/``, included from ``shop_search/urls.py``)."""

from django.urls import path

from .apis import SimilarApi

urlpatterns = [
    path("products/<str:sku>/similar", SimilarApi.as_view(), name="product-similar"),
]
