"""Autocomplete API: ``GET /api/v1/suggest?q=hoo``.

HTTP only: the input validated here, the work done by ``search.suggest``. A storefront operation like search
(``StorefrontAccess``: anonymous while ``SEARCH_ALLOW_ANONYMOUS``); an API key's filters hold its products.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from shop_search.db import ReplicaReads
from shop_search.serializers import InputSerializer, error_responses

from .apis import CardOutput, held_filters
from .filters import Filters
from .suggest import SUGGEST_MAX_QUERY_LENGTH, fold, suggest, suggestion_payload

# Browsers may reuse an answer this long: a shopper who deletes a character asks again for what they just saw.
BROWSER_CACHE_SECONDS = 60


class SuggestInput(InputSerializer):
    # Not trimmed: a trailing space says the last word is complete ("red " completes after "red").
    q = serializers.CharField(max_length=SUGGEST_MAX_QUERY_LENGTH, trim_whitespace=False)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=20, default=8)
    products = serializers.IntegerField(required=False, min_value=0, max_value=10, default=4)

    def validate_q(self, value: str) -> str:
        if not fold(value):
            raise ValidationError("type at least one letter or digit")
        return value


class SuggestionOutput(serializers.Serializer):
    text = serializers.CharField(help_text="what to put in the search box (and search for)")
    kind = serializers.ChoiceField(choices=["query", "category", "word", "product"],
                                   help_text="a popular query, a category, a catalog word, a product name")  # fmt: skip
    category = serializers.CharField(allow_null=True, help_text="kind category: the category path to browse")
    typo = serializers.BooleanField(help_text="found by typo-tolerant matching, not as typed")


class SuggestProductOutput(CardOutput):
    """A top product of a suggestion: its card."""


class SuggestOutput(serializers.Serializer):
    suggestions = SuggestionOutput(many=True)
    products = SuggestProductOutput(many=True)


class SuggestApi(ReplicaReads, APIView):
    """Search-as-you-type: completions of ``q`` (popular queries that found products, categories, catalog words,
    product names; prefix and typo-tolerant prefix matching) and the top few products."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "q",
                str,
                required=True,
                description=f"what was typed so far, at most {SUGGEST_MAX_QUERY_LENGTH} characters; a "
                "trailing space means the last word is complete",
            ),  # fmt: skip
            OpenApiParameter("limit", int, description="completions, 1-20 (default 8)"),
            OpenApiParameter("products", int, description="products, 0-10 (default 4)"),
        ],
        responses={200: SuggestOutput, **error_responses()},
    )
    def get(self, request):
        serializer = SuggestInput(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        params = serializer.validated_data
        result = suggest(params["q"], filters=held_filters(request, Filters()), limit=params["limit"],
                         product_limit=params["products"])  # fmt: skip
        response = Response(suggestion_payload(result))
        response["Cache-Control"] = f"private, max-age={BROWSER_CACHE_SECONDS}"
        return response
