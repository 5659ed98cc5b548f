"""Catalog data: products with categories, variants, photos and reviews. Fields, constraints and indexes only."""

from django.contrib.postgres.indexes import GinIndex
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

SKU_MAX_LENGTH = 64


class Category(models.Model):
    """A node of the category tree, identified by its path (``Men/Tops/Jackets``)."""

    path = models.CharField(max_length=512, unique=True)
    name = models.CharField(max_length=200)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    depth = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["path"]
        verbose_name_plural = "categories"
        indexes = [
            # Descendants of X are ``path LIKE 'X/%'``: a pattern-ops index answers that prefix match.
            models.Index(fields=["path"], opclasses=["varchar_pattern_ops"], name="category_path_prefix"),
        ]

    def __str__(self) -> str:
        return self.path


class Product(models.Model):
    sku = models.CharField(max_length=SKU_MAX_LENGTH, unique=True)
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, help_text="Plain text, derived from the source HTML.")
    description_html = models.TextField(blank=True, help_text="The description as imported.")
    price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    in_stock = models.BooleanField(default=True)
    brand = models.CharField(max_length=120, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    categories = models.ManyToManyField(Category, through="ProductCategory", related_name="products")
    primary_category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="primary_products"
    )
    # Hash of the imported record: an unchanged line is skipped on re-import.
    source_hash = models.CharField(max_length=64, blank=True)
    # Bumped by every change to what the embeddings read (text, photos, reviews); "stale" until re-embedded.
    content_version = models.PositiveIntegerField(default=1)
    embeddings_stale = models.BooleanField(default=True)
    embedding_error = models.TextField(blank=True)
    # Review summary, kept by the review service (search filters and sorts on it without touching reviews).
    rating_average = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    rating_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sku"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_not_negative"),
        ]
        indexes = [
            models.Index(fields=["price"], name="product_price"),
            models.Index(fields=["in_stock", "price"], name="product_stock_price"),
            models.Index(fields=["brand"], name="product_brand"),
            models.Index(fields=["rating_average"], name="product_rating"),
            models.Index(fields=["updated_at"], name="product_updated"),
            # The periodic task takes the oldest stale products first.
            models.Index(fields=["updated_at"], condition=Q(embeddings_stale=True), name="product_stale_by_age"),
            # ``attributes @> {"color": "Black"}`` filters use this index.
            GinIndex(fields=["attributes"], opclasses=["jsonb_path_ops"], name="product_attributes"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class ProductCategory(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE)
    category = models.ForeignKey(Category, on_delete=models.CASCADE)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["product", "category"], name="product_category_unique"),
        ]
        indexes = [models.Index(fields=["category", "product"], name="category_products")]

    def __str__(self) -> str:
        return f"{self.product_id} in {self.category_id}"


class ProductImage(models.Model):
    """A photo of a product, stored once per content hash. A photo that could not be read keeps its error."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    position = models.PositiveSmallIntegerField()
    source = models.CharField(max_length=2048, help_text="Path in the catalog folder or http(s) URL.")
    file = models.FileField(upload_to="photos", max_length=255, blank=True)
    content_hash = models.CharField(max_length=64, blank=True, db_index=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["product", "position"]
        indexes = [models.Index(fields=["product", "position"], name="product_image_position")]

    def __str__(self) -> str:
        return f"{self.product_id}#{self.position} {self.source}"

    @property
    def usable(self) -> bool:
        return bool(self.file) and not self.error


class Variant(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    sku = models.CharField(max_length=SKU_MAX_LENGTH, unique=True)
    attributes = models.JSONField(default=dict, blank=True)
    in_stock = models.BooleanField(default=True)
    price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    images = models.ManyToManyField(ProductImage, blank=True, related_name="variants")

    class Meta:
        ordering = ["product", "sku"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="variant_price_not_negative"),
        ]
        indexes = [
            GinIndex(fields=["attributes"], opclasses=["jsonb_path_ops"], name="variant_attributes"),
        ]

    def __str__(self) -> str:
        return self.sku


class Review(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="reviews")
    rating = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    title = models.CharField(max_length=255, blank=True)
    body = models.TextField(blank=True)
    author = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(null=True, blank=True)
    # Reviews carry no id of their own: this hash of their content makes re-import idempotent.
    fingerprint = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["product", "-created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="review_rating_1_to_5"),
        ]
        indexes = [models.Index(fields=["product", "rating"], name="review_product_rating")]

    def __str__(self) -> str:
        return f"{self.product_id} {self.rating}* {self.title}"


class AttributeSetting(models.Model):
    """How the shop presents one product attribute (or one of the built-in fields category, brand, price, rating):
    its display label and position, whether search shows it as a facet, whether shoppers may filter by it and
    whether it may be sorted by. ``catalog.selectors.attribute_setup`` reads them (with defaults for a shop that set
    nothing); ``catalog.services.attribute_setup_save`` writes them and announces the change."""

    name = models.CharField(max_length=100, unique=True, help_text="the attribute's key in the catalog, or a built-in")
    label = models.CharField(max_length=100, blank=True, help_text="shown to shoppers; empty: made from the key")
    position = models.PositiveSmallIntegerField(default=100, help_text="facets and attributes are shown by position")
    facet = models.BooleanField(default=False, help_text="counted and shown as a facet of search results")
    filterable = models.BooleanField(default=True, help_text="shoppers may filter by it (else a filter is a 400)")
    sortable = models.BooleanField(default=False, help_text="results may be sorted by it")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name
