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


class QuerySuggestionQuerySet(models.QuerySet):
    def offered(self) -> models.QuerySet:
        """The queries autocomplete offers: not hidden, searched with results often enough, and the latest search
        without filters (if any) still had results."""
        from django.conf import settings

        return self.filter(
            models.Q(last_result_count__isnull=True) | models.Q(last_result_count__gt=0),
            hidden=False,
            searches_with_results__gte=settings.SEARCH_SUGGEST_MIN_SEARCHES,
        )


class QuerySuggestion(models.Model):
    """A query shoppers search for, as autocomplete offers it (``search.suggest``): its first-page text searches
    over the last ``SEARCH_SUGGEST_WINDOW_DAYS`` days of the search log (recounted by
    ``search.suggest.query_suggestions_refresh``), and whether a merchandiser hid it. A hidden text is never
    suggested, whatever offers it (a query, a category, a word, a product name); it may have no searches at all."""

    query = models.CharField(max_length=256, unique=True, help_text="lower case, single spaces")
    searches = models.PositiveIntegerField(default=0)
    searches_with_results = models.PositiveIntegerField(default=0)
    last_result_count = models.PositiveIntegerField(
        null=True, blank=True, help_text="results of the latest search without filters (empty: none without)"
    )
    last_searched_at = models.DateTimeField(null=True, blank=True)
    hidden = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = QuerySuggestionQuerySet.as_manager()

    class Meta:
        ordering = ["-searches_with_results", "query"]

    def __str__(self) -> str:
        return self.query

    def status_text(self) -> str:
        from django.conf import settings

        if self.hidden:
            return "hidden"
        if self.last_result_count == 0 or not self.searches_with_results:
            return "no results"
        if self.searches_with_results < settings.SEARCH_SUGGEST_MIN_SEARCHES:
            return "too few searches"
        return "offered"


class ProductPopularity(models.Model):
    """How much shoppers wanted a product lately (``sort=popularity``): clicks and add-to-carts on search results
    over the last ``SEARCH_POPULARITY_DAYS`` days, recomputed by a beat task (``search.services
    .product_popularity_refresh``). A product without a row has none."""

    product = models.OneToOneField(Product, on_delete=models.CASCADE, primary_key=True, related_name="popularity")
    score = models.FloatField(default=0.0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["-score"], name="search_popularity_score")]

    def __str__(self) -> str:
        return f"popularity {self.score:g} of {self.product_id}"


class SynonymSet(models.Model):
    """Words a shopper may use for the same thing, applied to the full-text side of a query
    (``search.synonyms``). Multi-way: every term finds what the others find (``hoodie, hooded sweatshirt,
    pullover``). One-way: ``terms`` find what ``root`` finds, not the reverse (``tee -> t-shirt``)."""

    root = models.CharField(
        max_length=120, blank=True, help_text="one-way: the term the other terms also mean; empty: multi-way"
    )
    terms = ArrayField(models.CharField(max_length=120), help_text="words or phrases, lower case")
    enabled = models.BooleanField(default=True)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{', '.join(self.terms)} -> {self.root}" if self.root else ", ".join(self.terms)


class QueryRule(models.Model):
    """A merchandiser's rule (``search.rules``): when its conditions hold for a search, its consequences change
    the search (query, filters) or its results (pins, hides, boosts, a redirect). Applied after fusion, shown in
    ``explain``."""

    class Match(models.TextChoices):
        ALWAYS = "always", "any query"
        EQUALS = "equals", "query equals"
        CONTAINS = "contains", "query contains"
        PATTERN = "pattern", "query matches the pattern"

    name = models.CharField(max_length=120)
    enabled = models.BooleanField(default=True)
    starts_at = models.DateTimeField(null=True, blank=True, help_text="no effect before (empty: no start)")
    ends_at = models.DateTimeField(null=True, blank=True, help_text="no effect from (empty: no end)")
    priority = models.IntegerField(default=0, help_text="higher first; a later rule never undoes an earlier one")
    # Conditions (all that are set must hold).
    match = models.CharField(max_length=16, choices=Match.choices, default=Match.EQUALS)
    pattern = models.CharField(max_length=256, blank=True, help_text="the query text, words or regular expression")
    category = models.CharField(max_length=512, blank=True, help_text="only while browsing or searching in it")
    filter_present = models.JSONField(
        default=dict, blank=True, help_text='only with these filters, e.g. {"brand": "Luma"} or {"color": ""} (any)'
    )
    # Consequences.
    pins = models.JSONField(default=list, blank=True, help_text='[{"sku": "24-MB01", "position": 1}, ...]')
    hides = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    boosts = models.JSONField(
        default=list,
        blank=True,
        help_text='[{"attribute": "brand", "value": "Luma", "weight": 2}, {"attribute": "in_stock", "value": '
        '"true", "weight": -1}]: a positive weight boosts, a negative one buries',
    )
    add_filters = models.JSONField(default=dict, blank=True, help_text='e.g. {"in_stock": true, "color": "Red"}')
    replace_query = models.CharField(max_length=256, blank=True)
    redirect_url = models.URLField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-priority", "id"]

    def __str__(self) -> str:
        return self.name
