"""Search routes of the storefront API (``/api/v1/``, included from ``shop_search/urls.py``)."""

from django.urls import path

from .apis import EventApi, ImageSearchApi, SearchApi

urlpatterns = [
    path("search", SearchApi.as_view(), name="search"),
    path("search/image", ImageSearchApi.as_view(), name="search-image"),
    path("events", EventApi.as_view(), name="events"),
]
