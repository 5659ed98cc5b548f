"""Search routes of the storefront API (``/api/v1/``, included from ``shop_search/urls.py``)."""

from django.urls import path

from .apis import EventApi, ImageSearchApi, SearchApi
from .merchandising_apis import RuleDetailApi, RuleListApi, SynonymDetailApi, SynonymListApi
from .suggest_apis import SuggestApi

urlpatterns = [
    path("search", SearchApi.as_view(), name="search"),
    path("search/image", ImageSearchApi.as_view(), name="search-image"),
    path("events", EventApi.as_view(), name="events"),
    path("suggest", SuggestApi.as_view(), name="suggest"),
    path("synonyms", SynonymListApi.as_view(), name="synonym-list"),
    path("synonyms/<int:pk>", SynonymDetailApi.as_view(), name="synonym-detail"),
    path("rules", RuleListApi.as_view(), name="rule-list"),
    path("rules/<int:pk>", RuleDetailApi.as_view(), name="rule-detail"),
]
