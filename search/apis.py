"""Storefront search API: ``GET /api/v1/search``, ``POST /api/v1/search/image``, ``POST /api/v1/events``.

HTTP only: input validated by serializers, the work done by ``search.selectors``/``search.services``, output
shaped here. See ``search.ranking`` for how results are ordered.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import logging
import time
import uuid

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.photos import PhotoError, open_checked
from catalog.selectors import attribute_setup
from embeddings.queries import photo_query
from embeddings.selectors import generation_photo_vectors_exist
from shop_search.db import ReplicaReads
from shop_search.permissions import StorefrontAccess
from shop_search.serializers import InputSerializer, error_responses

from .cache import cache_key, cache_result, cached_result_json, cached_result_split, cached_result_total
from .filters import Filters
from .ranking import SIGNALS, FusionConfig
from .selectors import active_generation_cached, attribute_names, search_products
from .services import UnknownSearchResult, search_event_record, search_log_record
from .sorting import BUILTIN_SORTS, RELEVANCE, SORTS, attribute_sort
from .types import SearchQuery, SearchResult

logger = logging.getLogger(__name__)

FIXED_PARAMS = {"q", "page", "page_size", "explain", "sort", "category", "brand", "price_min", "price_max", "in_stock",
                "rating_min", "fusion", *(f"w_{signal}" for signal in SIGNALS)}  # fmt: skip


class SearchInput(InputSerializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=settings.SEARCH_MAX_QUERY_LENGTH,
                              trim_whitespace=True, default="")  # fmt: skip
    page = serializers.IntegerField(required=False, min_value=1, max_value=settings.SEARCH_MAX_PAGE, default=1)
    page_size = serializers.IntegerField(
        required=False, min_value=1, max_value=settings.SEARCH_MAX_PAGE_SIZE, default=settings.SEARCH_PAGE_SIZE
    )
    explain = serializers.BooleanField(required=False, default=False)
    sort = serializers.CharField(required=False, max_length=110, default=RELEVANCE)
    category = serializers.CharField(required=False, allow_blank=True, max_length=512, default="")
    brand = serializers.CharField(required=False, allow_blank=True, max_length=120, default="")
    price_min = serializers.DecimalField(required=False, max_digits=12, decimal_places=2, min_value=0)
    price_max = serializers.DecimalField(required=False, max_digits=12, decimal_places=2, min_value=0)
    in_stock = serializers.BooleanField(required=False, allow_null=True, default=None)
    rating_min = serializers.DecimalField(required=False, max_digits=3, decimal_places=2, min_value=0, max_value=5)
    # Staff only (the admin playground): another fusion method or signal weights for this query.
    fusion = serializers.ChoiceField(required=False, choices=["rrf", "weighted"])
    w_fulltext = serializers.FloatField(required=False, min_value=0, max_value=100)
    w_text_vector = serializers.FloatField(required=False, min_value=0, max_value=100)
    w_cross_modal = serializers.FloatField(required=False, min_value=0, max_value=100)
    w_fused = serializers.FloatField(required=False, min_value=0, max_value=100)
    w_image = serializers.FloatField(required=False, min_value=0, max_value=100)

    def validate_sort(self, value: str) -> str:
        if value in SORTS or attribute_sort(value, attribute_setup().sortable):
            return value
        sortable = [f"{name}_asc, {name}_desc" for name in attribute_setup().sortable if name not in BUILTIN_SORTS]
        raise ValidationError(f"unknown sort {value!r}: use one of {', '.join([*SORTS, *sortable])}")

    def validate(self, data):
        low, high = data.get("price_min"), data.get("price_max")
        if low is not None and high is not None and low > high:
            raise ValidationError({"price_max": ["must not be below price_min"]})
        return data


class RatingOutput(serializers.Serializer):
    average = serializers.FloatField(allow_null=True)
    count = serializers.IntegerField()


class CardOutput(serializers.Serializer):
    """What every product card shows (result lists, autocomplete's top products)."""

    sku = serializers.CharField()
    name = serializers.CharField()
    price = serializers.CharField(allow_null=True, help_text="decimal as a string")
    currency = serializers.CharField()
    in_stock = serializers.BooleanField()
    brand = serializers.CharField(allow_blank=True)
    category = serializers.CharField(allow_null=True)
    photo_url = serializers.CharField(allow_null=True)


class ResultOutput(CardOutput):
    """One product of a result list (search, photo search, similar items)."""

    variant_sku = serializers.CharField(
        allow_null=True, help_text="the variant the card shows: the one the attribute filters ask for (color=Black)"
    )
    rating = RatingOutput()
    score = serializers.FloatField()
    explain = serializers.DictField(required=False, help_text="with explain=1: each signal's rank and score")


class FacetValueOutput(serializers.Serializer):
    value = serializers.CharField()
    count = serializers.IntegerField()


class FacetLabelOutput(serializers.Serializer):
    name = serializers.CharField(help_text="the key in facets and the filter parameter")
    label = serializers.CharField(help_text="what shoppers read")


class SynonymAppliedOutput(serializers.Serializer):
    term = serializers.CharField()
    added = serializers.ListField(child=serializers.CharField())


class RuleAppliedOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class QueryExplainOutput(serializers.Serializer):
    synonyms = SynonymAppliedOutput(many=True)
    rules = RuleAppliedOutput(many=True)


class SearchOutput(serializers.Serializer):
    """A search's answer: the exact total of the match set, one page of it, and its facets."""

    total = serializers.IntegerField()
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    corrected_query = serializers.CharField(allow_blank=True, help_text="the query as spelled after typo correction")
    mode = serializers.ChoiceField(choices=["hybrid", "photo", "keyword", "browse"])
    results = ResultOutput(many=True)
    facets = serializers.DictField(child=FacetValueOutput(many=True))
    facet_labels = FacetLabelOutput(many=True, help_text="the facets to show, in order, with their labels")
    redirect = serializers.CharField(
        allow_null=True, help_text="a query rule's URL: the storefront goes there instead of showing results"
    )
    explain = QueryExplainOutput(required=False, help_text="with explain=1: the synonyms and rules that applied")
    search_id = serializers.UUIDField(help_text="send it back with click and add-to-cart events")


class ImageSearchInput(serializers.Serializer):
    """Documentation of a photo search's body (multipart or JSON); filters as in a text search may be added."""

    image = serializers.CharField(help_text="the photo: a file (multipart) or its base64 (JSON), at most 10 MB")
    q = serializers.CharField(required=False, allow_blank=True, help_text="refines the photo: 'like this, in blue'")
    sort = serializers.ChoiceField(required=False, choices=SORTS, help_text="as in a text search")


def parse_search_params(request, data, generation=None) -> tuple[dict, Filters, FusionConfig | None]:
    """Validated parameters, the filters (attribute filters included) and the staff's fusion override (on top of
    ``generation``'s fusion)."""
    known_attributes = attribute_names()
    unknown = [key for key in data if key not in FIXED_PARAMS and key not in known_attributes]
    if unknown:  # perhaps an attribute that appeared since the names were read
        known_attributes = attribute_names(refresh=True)
        unknown = [key for key in data if key not in FIXED_PARAMS and key not in known_attributes]
    if unknown:
        raise ValidationError({key: [f"unknown filter {key!r}"] for key in unknown})
    single = {key: data.get(key) for key in data if key in FIXED_PARAMS}
    serializer = SearchInput(data=single)
    serializer.is_valid(raise_exception=True)
    params = serializer.validated_data
    overrides = {s: params[f"w_{s}"] for s in SIGNALS if f"w_{s}" in params}
    if (overrides or "fusion" in params) and not request.user.is_staff:
        raise ValidationError({"fusion": ["fusion and weights are for staff (the admin playground)"]})
    setup = attribute_setup()
    blocked = sorted(key for key in set(data) & known_attributes - FIXED_PARAMS if not setup.filterable(key))
    if blocked:  # the shop's attribute setup says shoppers do not filter by these
        raise ValidationError({key: [f"{key!r} is not a filter of this shop"] for key in blocked})
    attributes = []
    for key in sorted(set(data) & known_attributes - FIXED_PARAMS):
        values = data.getlist(key) if hasattr(data, "getlist") else [data[key]]
        for value in values:
            if not isinstance(value, str) or not value.strip() or len(value) > 200:
                raise ValidationError({key: ["must be a non-empty value of at most 200 characters"]})
            attributes.append((key, value.strip()))
    filters = Filters(
        category=params["category"].strip("/ "),
        brand=params["brand"],
        price_min=params.get("price_min"),
        price_max=params.get("price_max"),
        in_stock=params.get("in_stock"),
        rating_min=params.get("rating_min"),
        attributes=tuple(attributes),
    )
    fusion = (
        FusionConfig.from_settings(overrides, params.get("fusion"), generation=generation)
        if overrides or "fusion" in params
        else None
    )
    return params, filters, fusion


# Parsed text search parameters by query string: storefront traffic repeats the same ones, and validating them is
# a tenth of a cache hit's time. An entry holds while the catalog's attribute names stay the same object (they are
# re-read every minute); only parses without a staff override are kept, since they are the same for every user,
# and only of query strings up to PARSED_SEARCH_MAX_LENGTH, keyed with the request's encoding (which decodes them).
_parsed_searches: dict[tuple[str | None, str], tuple[tuple, tuple[dict, Filters, None]]] = {}
PARSED_SEARCHES_KEEP = 2048
PARSED_SEARCH_MAX_LENGTH = 1024


def held_filters(request, filters: Filters) -> Filters:
    """``filters`` held to those of the request's API key, if it has any (a search-only key can fix a brand, a
    category, a price range...: ``api_keys``): the client can narrow its searches, never widen them."""
    restriction = getattr(request.auth, "search_restriction", None)
    return filters.held_to(Filters.from_dict(restriction)) if restriction else filters


def parse_search_query_string(request, generation=None) -> tuple[dict, Filters, FusionConfig | None]:
    """``parse_search_params`` of the request's query string, remembered for the next request with the same one."""
    key = (request.encoding, request.META.get("QUERY_STRING", ""))
    names = attribute_names()
    setup = attribute_setup()  # which attributes are filterable: a parse holds while it is the same object
    known = _parsed_searches.get(key)
    if known is not None and known[0][0] is names and known[0][1] is setup:
        return known[1]
    parsed = parse_search_params(request, request.query_params, generation)
    if parsed[2] is None and len(key[1]) <= PARSED_SEARCH_MAX_LENGTH and attribute_names() is names:
        if len(_parsed_searches) >= PARSED_SEARCHES_KEEP:
            _parsed_searches.clear()  # a flood of distinct query strings only makes the next ones parse again
        _parsed_searches[key] = ((names, setup), parsed)
    return parsed


def result_payload(result: SearchResult, *, page: int, page_size: int, explain: bool) -> dict:
    items = []
    for ranked, product in zip(result.ranking, result.products, strict=False):
        item = {
            "sku": product["sku"],
            "name": product["name"],
            "price": str(product["price"]) if product["price"] is not None else None,
            "currency": product["currency"],
            "in_stock": product["in_stock"],
            "brand": product["brand"],
            "category": product["category"],
            "photo_url": product["photo_url"],
            "variant_sku": product.get("variant_sku"),
            "rating": {
                "average": float(product["rating_average"]) if product["rating_average"] is not None else None,
                "count": product["rating_count"],
            },
            "score": round(ranked.score, 6),
        }
        if explain:
            item["explain"] = {
                signal: {"rank": rank, "score": round(score, 6)} for signal, (rank, score) in ranked.signals.items()
            }
        items.append(item)
    return {
        "total": result.total,
        "page": page,
        "page_size": page_size,
        "corrected_query": result.corrected_query,
        "mode": result.mode,
        "results": items,
        "facets": result.facets,
        "facet_labels": attribute_setup().facet_list(),
        "redirect": result.redirect_url or None,
        **({"explain": {"synonyms": result.synonyms, "rules": result.rules}} if explain else {}),
        "_product_ids": [product["id"] for product in result.products],
    }


def search_payload(result: SearchResult, *, page: int, page_size: int, explain: bool) -> dict:
    """``result_payload`` of a search, with its private ``_coverage`` (never sent; cached with the result): what
    the search log keeps of the joint space's health (``search.analytics.joint_space_health``)."""
    payload = result_payload(result, page=page, page_size=page_size, explain=explain)
    payload["_levers"] = result.merchandising_version
    payload["_coverage"] = {"covered": result.vector_covered, "best": result.best_similarity}
    return payload


def after_response(response, *calls) -> None:
    """Run ``calls`` once the response has been sent: Django closes a response after the server wrote it (and the
    test client after the view returned), calling its resource closers first. Bookkeeping that no answer depends on
    (the search log, popularity, storing a result in the cache) then costs the shopper nothing; a failure is
    logged, never raised."""

    def run() -> None:
        for call in calls:
            try:
                call()
            except Exception:  # noqa: BLE001 - after the response nobody can be told; each part degrades alone
                logger.exception("search bookkeeping after the response failed")

    response._resource_closers.append(run)  # what Django's own FileResponse uses to run code on close


def respond(kind: str, payload: dict | str, *, started: float, cache_hit: bool, query: str, filters: Filters,
            page: int, generation_id, popular: dict | None = None, after=()) -> HttpResponse:  # fmt: skip
    """The search response, from the payload or from its JSON text (a cache hit asked for as JSON: sent as stored,
    its private tail cut off and the search id added, never parsed). Once it has been sent, the ``after`` calls run,
    then its log entry is queued with the popularity count of ``popular`` (a normalised request). A cache hit logs
    the joint-space coverage stored with the result (the same generation computed it: it is part of the key)."""
    search_id = str(uuid.uuid4())
    latency_ms = (time.perf_counter() - started) * 1000
    coverage_json = ""
    if isinstance(payload, str):
        payload, coverage_json = cached_result_split(payload)
        response = HttpResponse(f'{payload[:-1]},"search_id":"{search_id}"}}', content_type="application/json")
    else:
        response = Response({**{k: v for k, v in payload.items() if not k.startswith("_")}, "search_id": search_id})
    response["X-Cache"] = "HIT" if cache_hit else "MISS"
    response["X-Search-Id"] = search_id
    response["Server-Timing"] = f"search;dur={latency_ms:.2f}"

    def log() -> None:
        coverage = json.loads(coverage_json) if coverage_json else {}
        if isinstance(payload, dict):
            coverage = payload.get("_coverage") or {}
        search_log_record({
            "id": search_id,
            "kind": kind,
            "query": query[:256],
            "normalized_query": " ".join(query.lower().split())[:256],
            "filters": filters.as_dict(),
            "page": page,
            "result_count": cached_result_total(payload) if isinstance(payload, str) else payload["total"],
            "latency_ms": round(latency_ms, 3),
            "cache_hit": cache_hit,
            "generation_id": generation_id,
            "best_similarity": coverage.get("best") or {},
            "vector_covered": coverage.get("covered"),
            "created_at": timezone.now().isoformat(),
        }, popular=popular, served=_served_skus(payload))  # fmt: skip

    after_response(response, *after, log)
    return response


def _served_skus(payload: dict | str) -> list[str]:
    """The SKUs a response served (a cached payload is the JSON text as stored)."""
    results = (json.loads(payload) if isinstance(payload, str) else payload)["results"]
    return [item["sku"] for item in results]


class SearchApi(ReplicaReads, APIView):
    """Hybrid text search (full text + vectors), with filters, facets and pagination; empty ``q`` browses."""

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, description="query text, at most 256 characters"),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
            OpenApiParameter("explain", bool, description="add each signal's rank and score"),
            OpenApiParameter(
                "sort",
                str,
                description="relevance (default), price_asc, price_desc, newest, rating, "
                "popularity, or <attribute>_asc / <attribute>_desc for an attribute the shop marks "
                "sortable: the same results, total and facets in another order",
            ),
            OpenApiParameter("category", str, description="category path; descendants included"),
            OpenApiParameter("brand", str),
            OpenApiParameter("price_min", float),
            OpenApiParameter("price_max", float),
            OpenApiParameter("in_stock", bool),
            OpenApiParameter("rating_min", float),
            OpenApiParameter(
                "attributes",
                OpenApiTypes.OBJECT,
                style="form",
                explode=True,
                description="any product or variant attribute as its own parameter, e.g. color=Black&size=M "
                "(an unknown attribute is a 400)",
            ),  # fmt: skip
        ],
        responses={200: SearchOutput, **error_responses()},
    )
    def get(self, request):
        started = time.perf_counter()
        generation = active_generation_cached()
        params, filters, fusion = parse_search_query_string(request, generation)
        filters = held_filters(request, filters)
        generation_id = generation.pk if generation else None
        normalized = {
            "q": " ".join(params["q"].lower().split()),
            "filters": filters.as_dict(),
            "page": params["page"],
            "page_size": params["page_size"],
            "explain": params["explain"],
            **({"sort": params["sort"]} if params["sort"] != RELEVANCE else {}),
        }
        cacheable = fusion is None
        key = cache_key(normalized, generation_id)
        payload = cached_result_json(key) if cacheable else None
        cache_hit = payload is not None
        if cache_hit and request.accepted_renderer.format != "json":  # the browsable API renders the payload
            payload = json.loads(payload)
        if payload is None:
            query = SearchQuery(
                text=params["q"], filters=filters, page=params["page"], page_size=params["page_size"], fusion=fusion,
                sort=params["sort"],
            )  # fmt: skip
            result = search_products(query, generation)
            payload = search_payload(result, page=params["page"], page_size=params["page_size"],
                                     explain=params["explain"])  # fmt: skip
        after = []
        if cacheable and not cache_hit:
            after.append(functools.partial(cache_result, key, payload, payload["_product_ids"]))
        response = respond("text", payload, started=started, cache_hit=cache_hit, query=params["q"], filters=filters,
                           page=params["page"], generation_id=generation_id,
                           popular=normalized if cacheable and normalized["q"] else None, after=after)  # fmt: skip
        if normalized["q"]:
            # Before the first generation is active, text search is the keyword signal alone: say so.
            response["X-Search-Mode"] = "hybrid" if generation is not None else "keyword"
        return response


class ImageSearchApi(ReplicaReads, APIView):
    """Search by photo: multipart ``image`` or JSON ``{"image": "<base64>"}``; optional ``q`` refines it."""

    parser_classes = [MultiPartParser, JSONParser]
    permission_classes = [StorefrontAccess]  # a storefront search, even though it is a POST
    replica_read_methods = ("POST",)  # likewise a read (shop_search/db.py)

    @extend_schema(request=ImageSearchInput, responses={200: SearchOutput, **error_responses(409, 413, 415)})
    def post(self, request):
        started = time.perf_counter()
        try:
            data = request.data
        except RequestDataTooBig:  # Django refuses bodies over DATA_UPLOAD_MAX_MEMORY_SIZE
            return _too_large()
        photo_bytes = self._photo_bytes(data)
        if photo_bytes is None:
            return _too_large()
        fields = request.query_params.copy()
        for key in data:
            if key != "image":
                fields[key] = data[key]
        generation = active_generation_cached()
        params, filters, fusion = parse_search_params(request, fields, generation)
        filters = held_filters(request, filters)
        try:
            image = open_checked(photo_bytes)
        except PhotoError as exc:
            raise ValidationError({"image": [str(exc)]}) from None
        if generation is None or not generation_photo_vectors_exist(generation):
            reason = (
                "no embedding generation is active yet: run `manage.py reindex`"
                if generation is None
                else f"generation {generation.pk} has no photo vectors: the catalog had no usable photos when it was "
                "built; add photos and run `manage.py reindex`"
            )
            return Response({"detail": f"photo search is unavailable: {reason}", "status": 409},
                            status=status.HTTP_409_CONFLICT)  # fmt: skip
        query = SearchQuery(
            text=params["q"], filters=filters, page=params["page"], page_size=params["page_size"], fusion=fusion,
            photo=photo_query(generation, image, params["q"]), sort=params["sort"],
        )  # fmt: skip
        result = search_products(query, generation)
        payload = search_payload(result, page=params["page"], page_size=params["page_size"], explain=params["explain"])
        return respond("photo", payload, started=started, cache_hit=False, query=params["q"],
                       filters=filters, page=params["page"], generation_id=generation.pk)  # fmt: skip

    @staticmethod
    def _photo_bytes(data) -> bytes | None:
        """The photo's bytes; None when over the size limit (413)."""
        limit = settings.SEARCH_PHOTO_MAX_BYTES
        upload = data.get("image")
        if upload is None or upload == "":
            raise ValidationError({"image": ["a photo is required (multipart field or base64 in JSON)"]})
        if hasattr(upload, "read"):
            if upload.size > limit:
                return None
            return upload.read()
        if not isinstance(upload, str):
            raise ValidationError({"image": ["must be a file or a base64 string"]})
        if len(upload) > limit * 4 // 3 + 8:
            return None
        try:
            return base64.b64decode(upload.split(",", 1)[-1] if upload.startswith("data:") else upload, validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError({"image": ["not valid base64"]}) from None


def _too_large() -> Response:
    limit = settings.SEARCH_PHOTO_MAX_BYTES
    return Response(
        {"detail": f"photo larger than {limit // (1024 * 1024)} MB", "status": 413},
        status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    )


class EventInput(InputSerializer):
    search_id = serializers.UUIDField()
    type = serializers.ChoiceField(choices=["click", "add_to_cart"])
    sku = serializers.CharField(max_length=64)
    position = serializers.IntegerField(required=False, min_value=1, max_value=10_000, allow_null=True)


class EventOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.IntegerField()


class EventApi(APIView):
    """A storefront event (click, add to cart) on a search result, for click-through analytics. Anonymous
    storefronts send these, like an analytics beacon; they are validated and throttled."""

    permission_classes = [StorefrontAccess]

    @extend_schema(request=EventInput, responses={201: EventOutput, **error_responses()})
    def post(self, request):
        serializer = EventInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            event = search_event_record(
                search_id=serializer.validated_data["search_id"],
                type=serializer.validated_data["type"],
                sku=serializer.validated_data["sku"],
                position=serializer.validated_data.get("position"),
            )
        except UnknownSearchResult as exc:
            raise ValidationError({exc.field: [str(exc)]}) from None
        return Response({"id": event.pk, "status": 201}, status=status.HTTP_201_CREATED)
