"""Search data: the full-text document of each product, and the search log with storefront events."""

import uuid

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils import timezone

from catalog.models import Product


class SearchDocument(models.Model):
    """What search reads of a product, kept up to date by ``search.documents.search_documents_update`` whenever the
    product changes: the weighted full-text document (A: name; B: categories, brand; C: attributes; D: description
    and reviews), the facet values, price and rating, and the card a result shows."""

    product = models.OneToOneField(Product, on_delete=models.CASCADE, primary_key=True, related_name="search_document")
    document = SearchVectorField()
    # "brand=<b>", "color=<c>", "size=<s>", "category=<path>" (every ancestor too), each once
    facets = ArrayField(models.TextField(), default=list)
    price = models.DecimalField(max_digits=12, decimal_places=2, null=True)
    rating = models.DecimalField(max_digits=3, decimal_places=2, null=True)
    # sku, name, price (text), currency, in_stock, brand, rating_average, rating_count, category, photo
    card = models.JSONField(default=dict)

    class Meta:
        indexes = [
            GinIndex(fields=["document"], name="search_document_gin"),
            # membership by the kind a query names: d.facets && ARRAY['category=<path>'] (search/keywords.py)
            GinIndex(fields=["facets"], name="search_facets_gin"),
        ]

    def __str__(self) -> str:
        return f"search document of {self.product_id}"


class SearchLog(models.Model):
    """One storefront search: what was asked, what came back, how fast. Its id goes back to the storefront,
    which reports clicks and add-to-carts against it (``SearchEvent``)."""

    class Kind(models.TextChoices):
        TEXT = "text"
        PHOTO = "photo"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    query = models.CharField(max_length=256, blank=True)
    normalized_query = models.CharField(max_length=256, blank=True, db_index=True)
    filters = models.JSONField(default=dict, blank=True)
    page = models.PositiveIntegerField(default=1)
    result_count = models.PositiveIntegerField()
    latency_ms = models.FloatField()
    cache_hit = models.BooleanField(default=False)
    generation_id = models.BigIntegerField(null=True, blank=True)
    # The joint space's health at this search (``search.match_set.MatchSet``; a cache hit logs what the search that
    # computed it found): each vector signal's best similarity among its candidates, before thresholds, and whether
    # a candidate reached the relevance threshold of a signal that admits. Empty and null: no vector signal ran
    # (browsing, keyword-only mode) or unknown (logged before these were recorded).
    best_similarity = models.JSONField(default=dict, blank=True)
    vector_covered = models.BooleanField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)  # the time of the search, not of the write

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.query!r} ({self.result_count})"


class SearchEvent(models.Model):
    class Type(models.TextChoices):
        CLICK = "click"
        ADD_TO_CART = "add_to_cart"

    # No database constraint: search logs arrive in batches (search.services), an event may come first.
    search = models.ForeignKey(SearchLog, on_delete=models.DO_NOTHING, db_constraint=False, related_name="events")
    type = models.CharField(max_length=16, choices=Type.choices)
    sku = models.CharField(max_length=64)
    position = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["search", "type"], name="search_event_search_type")]

    def __str__(self) -> str:
        return f"{self.type} {self.sku}"
