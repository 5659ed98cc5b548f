"""Catalog quality reports: what the photos and the texts of the catalog disagree on, per generation."""

from django.db import models

from catalog.models import Product, ProductImage
from embeddings.models import EmbeddingGeneration


class QualityReport(models.Model):
    """One run of the quality check on a generation's vectors; its listed findings hang off it. A new run replaces
    the generation's previous report."""

    generation = models.ForeignKey(EmbeddingGeneration, on_delete=models.CASCADE, related_name="+")
    products = models.PositiveIntegerField(default=0)
    photos = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0.0)
    # What the run could not check and why (a text-only generation has no photo checks, ...).
    notes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"quality report {self.pk} of generation {self.generation_id}"


class Finding(models.Model):
    """A disagreement between what a product's photos show and what its text says, with its evidence."""

    class Kind(models.TextChoices):
        PHOTO = "photo_of_other_product", "photo of another product"
        COLOUR = "colour_contradicted", "colour contradicted by the photos"
        CATEGORY = "wrong_category", "wrong category"
        DUPLICATE = "near_duplicate", "near-duplicate product"

    report = models.ForeignKey(QualityReport, on_delete=models.CASCADE, related_name="findings")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    image = models.ForeignKey(ProductImage, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # The product the photo looks like, or the one this product duplicates.
    other_product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField(help_text="Typical deviations above the catalog's usual margin of this kind.")
    margin = models.FloatField(help_text="The raw margin (a similarity difference, or a similarity).")
    evidence = models.TextField()
    details = models.JSONField(default=dict, blank=True)
    content_version = models.PositiveIntegerField(help_text="Product.content_version the finding was judged on.")

    class Meta:
        ordering = ["-score", "id"]
        indexes = [
            models.Index(fields=["report", "-score"], name="finding_report_score"),
            models.Index(fields=["report", "kind", "-score"], name="finding_report_kind_score"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.product_id} ({self.score:.1f})"


class Dismissal(models.Model):
    """A finding a person looked at and marked as fine ("this charcoal jacket is our Gray"): the check no longer
    lists it while the product stays as it was judged. When the product's text or photos change
    (``Product.content_version``) the dismissal lapses and the check judges the product afresh."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=32, choices=Finding.Kind.choices)
    # What the finding is about, stable across checks and re-imports (``services.finding_key``): the stated colour,
    # the photo's content hash, the filed category, the other product's SKU.
    key = models.CharField(max_length=2048)
    content_version = models.PositiveIntegerField(help_text="Product.content_version it was marked fine at.")
    evidence = models.TextField(blank=True, help_text="The finding's evidence when it was marked fine.")
    by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["product", "kind", "key"], name="dismissal_unique")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.product_id} marked fine ({self.key})"
