"""Staff API of the merchandisers' levers: ``/api/v1/synonyms`` and ``/api/v1/rules`` (list, create, read, replace,
change, delete). Staff only (a staff token or an admin API key), reads included: rules are the shop's plans.
Every write takes effect at once, cached results included (``search.merchandising.merchandising_changed``)."""

from __future__ import annotations

import re

from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from shop_search.serializers import error_responses

from .filters import Filters
from .merchandising import merchandising_changed
from .models import QueryRule, SynonymSet
from .rules import PATTERN_MAX_LENGTH
from .synonyms import term_tokens

# What one rule or synonym set may hold: enough for any shop, small enough to apply on every search.
MAX_TERMS = 50
MAX_PINS = 50
MAX_HIDES = 500
MAX_BOOSTS = 20


class SynonymSetSerializer(serializers.ModelSerializer):
    terms = serializers.ListField(child=serializers.CharField(max_length=120), min_length=1, max_length=MAX_TERMS)

    class Meta:
        model = SynonymSet
        fields = ["id", "root", "terms", "enabled", "note", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]

    def validate(self, data):
        root = data.get("root", getattr(self.instance, "root", ""))
        terms = data.get("terms", getattr(self.instance, "terms", []))
        cleaned = []
        for term in terms:
            if not term_tokens(term):
                raise serializers.ValidationError({"terms": [f"{term!r} has no word a query could contain"]})
            term = " ".join(term.lower().split())
            if term not in cleaned:
                cleaned.append(term)
        if root and not term_tokens(root):
            raise serializers.ValidationError({"root": [f"{root!r} has no word a query could contain"]})
        if not root and len(cleaned) < 2:
            raise serializers.ValidationError({"terms": ["a multi-way set needs two terms or more (or set a root)"]})
        data["terms"] = cleaned
        if "root" in data:
            data["root"] = " ".join(root.lower().split())
        return data


class PinSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    position = serializers.IntegerField(min_value=1, max_value=1000)


class BoostSerializer(serializers.Serializer):
    attribute = serializers.CharField(max_length=100)
    value = serializers.CharField(max_length=200)
    weight = serializers.FloatField(min_value=-100, max_value=100)

    def validate(self, data):
        if data["attribute"] != "in_stock":
            try:
                Filters.from_params({data["attribute"]: data["value"]})
            except ValueError as exc:
                raise serializers.ValidationError({"value": [str(exc)]}) from None
        return data


class QueryRuleSerializer(serializers.ModelSerializer):
    pins = PinSerializer(many=True, required=False, max_length=MAX_PINS)
    hides = serializers.ListField(child=serializers.CharField(max_length=64), required=False, max_length=MAX_HIDES)
    boosts = BoostSerializer(many=True, required=False, max_length=MAX_BOOSTS)
    add_filters = serializers.DictField(required=False)
    filter_present = serializers.DictField(child=serializers.CharField(allow_blank=True, max_length=200),
                                           required=False)  # fmt: skip

    class Meta:
        model = QueryRule
        fields = ["id", "name", "enabled", "priority", "starts_at", "ends_at", "match", "pattern", "category",
                  "filter_present", "pins", "hides", "boosts", "add_filters", "replace_query", "redirect_url",
                  "created_at", "updated_at"]  # fmt: skip
        read_only_fields = ["id", "created_at", "updated_at"]

    def validate(self, data):
        def current(name):
            return data.get(name, getattr(self.instance, name, None))

        match, pattern = current("match") or QueryRule.Match.EQUALS, current("pattern") or ""
        if match == QueryRule.Match.PATTERN:
            if len(pattern) > PATTERN_MAX_LENGTH:
                raise serializers.ValidationError({"pattern": [f"at most {PATTERN_MAX_LENGTH} characters"]})
            try:
                re.compile(pattern)
            except re.error as exc:
                raise serializers.ValidationError({"pattern": [f"not a regular expression: {exc}"]}) from None
        elif match == QueryRule.Match.CONTAINS and not pattern.strip():
            raise serializers.ValidationError({"pattern": ["'contains' needs the words to look for"]})
        starts_at, ends_at = current("starts_at"), current("ends_at")
        if starts_at and ends_at and ends_at <= starts_at:
            raise serializers.ValidationError({"ends_at": ["must be after starts_at"]})
        add_filters = data.get("add_filters")
        if add_filters:
            try:
                Filters.from_params(add_filters)
            except ValueError as exc:
                raise serializers.ValidationError({"add_filters": [str(exc)]}) from None
        return data


class _ListCreate(APIView):
    permission_classes = [IsAdminUser]
    serializer_class: type[serializers.ModelSerializer]

    def get(self, request):
        return Response(self.serializer_class(self.serializer_class.Meta.model.objects.all(), many=True).data)

    def post(self, request):
        serializer = self.serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            serializer.save()
            transaction.on_commit(merchandising_changed)
        return Response(serializer.data, status=status.HTTP_201_CREATED)


class _Detail(APIView):
    permission_classes = [IsAdminUser]
    serializer_class: type[serializers.ModelSerializer]

    def _object(self, pk: int):
        return get_object_or_404(self.serializer_class.Meta.model, pk=pk)

    def get(self, request, pk: int):
        return Response(self.serializer_class(self._object(pk)).data)

    def put(self, request, pk: int):
        return self._write(request, pk, partial=False)

    def patch(self, request, pk: int):
        return self._write(request, pk, partial=True)

    def _write(self, request, pk: int, *, partial: bool):
        serializer = self.serializer_class(self._object(pk), data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            serializer.save()
            transaction.on_commit(merchandising_changed)
        return Response(serializer.data)

    def delete(self, request, pk: int):
        with transaction.atomic():
            self._object(pk).delete()
            transaction.on_commit(merchandising_changed)
        return Response(status=status.HTTP_204_NO_CONTENT)


_WRITE_ERRORS = error_responses(404)


@extend_schema(tags=["merchandising"])
class SynonymListApi(_ListCreate):
    """Synonym sets: multi-way (``terms`` only) or one-way (``terms`` -> ``root``)."""

    serializer_class = SynonymSetSerializer

    @extend_schema(responses={200: SynonymSetSerializer(many=True), **error_responses()})
    def get(self, request):
        return super().get(request)

    @extend_schema(request=SynonymSetSerializer, responses={201: SynonymSetSerializer, **error_responses()})
    def post(self, request):
        return super().post(request)


@extend_schema(tags=["merchandising"])
class SynonymDetailApi(_Detail):
    serializer_class = SynonymSetSerializer

    @extend_schema(responses={200: SynonymSetSerializer, **_WRITE_ERRORS})
    def get(self, request, pk: int):
        return super().get(request, pk)

    @extend_schema(request=SynonymSetSerializer, responses={200: SynonymSetSerializer, **_WRITE_ERRORS})
    def put(self, request, pk: int):
        return super().put(request, pk)

    @extend_schema(request=SynonymSetSerializer, responses={200: SynonymSetSerializer, **_WRITE_ERRORS})
    def patch(self, request, pk: int):
        return super().patch(request, pk)

    @extend_schema(responses={204: None, **_WRITE_ERRORS})
    def delete(self, request, pk: int):
        return super().delete(request, pk)


@extend_schema(tags=["merchandising"])
class RuleListApi(_ListCreate):
    """Query rules: conditions on the query, category and filters; pins, hides, boosts, added filters, a replaced
    query, a redirect; an optional time window."""

    serializer_class = QueryRuleSerializer

    @extend_schema(responses={200: QueryRuleSerializer(many=True), **error_responses()})
    def get(self, request):
        return super().get(request)

    @extend_schema(request=QueryRuleSerializer, responses={201: QueryRuleSerializer, **error_responses()})
    def post(self, request):
        return super().post(request)


@extend_schema(tags=["merchandising"])
class RuleDetailApi(_Detail):
    serializer_class = QueryRuleSerializer

    @extend_schema(responses={200: QueryRuleSerializer, **_WRITE_ERRORS})
    def get(self, request, pk: int):
        return super().get(request, pk)

    @extend_schema(request=QueryRuleSerializer, responses={200: QueryRuleSerializer, **_WRITE_ERRORS})
    def put(self, request, pk: int):
        return super().put(request, pk)

    @extend_schema(request=QueryRuleSerializer, responses={200: QueryRuleSerializer, **_WRITE_ERRORS})
    def patch(self, request, pk: int):
        return super().patch(request, pk)

    @extend_schema(responses={204: None, **_WRITE_ERRORS})
    def delete(self, request, pk: int):
        return super().delete(request, pk)
