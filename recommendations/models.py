from django.db import models


class SimilarList(models.Model):
    """A product's similar items for the default request (no filters), computed ahead so that a product page
    reads one row instead of searching three vector indexes. Items are diversified, best first, as many as the
    API allows; a request for ``k`` takes the first ``k`` (greedy diversification makes every prefix the answer
    for its own ``k``). The list is used while the product's content version is the one it was computed from;
    the products in it are read live (price, stock, deletions)."""

    generation = models.ForeignKey("embeddings.EmbeddingGeneration", on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+")
    content_version = models.PositiveIntegerField()
    # [[product id, score, {signal: [rank, raw score]}], ...]
    items = models.JSONField()
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["generation", "product"], name="one_similar_list_per_generation"),
        ]

    def __str__(self) -> str:
        return f"similar items of product {self.product_id} in generation {self.generation_id}"
