"""``GET /api/v1/products/{sku}/similar``: similar items for a product page."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import Product
from search.apis import ResultOutput, result_payload
from search.selectors import active_generation_cached
from search.types import SearchResult
from shop_search.db import ReplicaReads
from shop_search.serializers import InputSerializer, error_responses

from .selectors import MAX_SIMILAR, NotEmbedded
from .services import similar_items


class SimilarInput(InputSerializer):
    k = serializers.IntegerField(required=False, min_value=1, max_value=MAX_SIMILAR, default=10)
    same_category = serializers.BooleanField(required=False, default=False)
    in_stock = serializers.BooleanField(required=False, allow_null=True, default=None)
    explain = serializers.BooleanField(required=False, default=False)


class SimilarOutput(serializers.Serializer):
    sku = serializers.CharField(help_text="the product they are similar to")
    total = serializers.IntegerField()
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    mode = serializers.CharField()
    results = ResultOutput(many=True)


class SimilarApi(ReplicaReads, APIView):
    @extend_schema(parameters=[SimilarInput], responses={200: SimilarOutput, **error_responses(404, 503)})
    def get(self, request, sku: str):
        unknown = set(request.query_params) - set(SimilarInput._declared_fields)
        if unknown:
            raise serializers.ValidationError({key: [f"unknown parameter {key!r}"] for key in sorted(unknown)})
        serializer = SimilarInput(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        params = serializer.validated_data
        # An API key whose filters hold its searches to part of the catalog holds these lists to it too.
        restriction = getattr(request.auth, "search_restriction", None)
        if restriction and not request.auth.products_restrict(Product.objects.filter(sku=sku)).exists():
            raise Http404(f"no product {sku!r}")  # outside what the key may see
        generation = active_generation_cached()
        if generation is None:
            get_object_or_404(Product, sku=sku)  # an unknown product is still a 404
            return Response({"detail": "no embedding generation is active yet", "status": 503}, status=503)
        try:
            similar = similar_items(
                sku=sku,
                generation=generation,
                k=MAX_SIMILAR if restriction else params["k"],  # room for the filters' cut
                same_category=params["same_category"],
                in_stock=params["in_stock"],
            )
        except Product.DoesNotExist:
            raise Http404(f"no product {sku!r}") from None
        except NotEmbedded as exc:
            return Response({"detail": str(exc), "status": 503}, status=503)
        ranking, products = similar.ranking, similar.products
        if restriction:
            ids = [product["id"] for product in products]
            admitted = set(
                request.auth.products_restrict(Product.objects.filter(id__in=ids)).values_list("id", flat=True)
            )
            kept = [(ranked, product) for ranked, product in zip(ranking, products, strict=False)
                    if product["id"] in admitted][: params["k"]]  # fmt: skip
            ranking, products = [ranked for ranked, _ in kept], [product for _, product in kept]
        result = SearchResult(total=len(ranking), ranking=ranking, facets={}, products=products)
        payload = result_payload(result, page=1, page_size=params["k"], explain=params["explain"])
        payload.pop("_product_ids")
        payload.pop("facets")
        payload.pop("facet_labels", None)
        payload.pop("corrected_query")
        payload["sku"] = sku
        # "stored": read from the product's precomputed list; "computed": from the vector indexes just now
        return Response(payload, headers={"X-Similar-Source": "stored" if similar.stored else "computed"})
