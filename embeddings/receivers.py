"""Signal receivers of the embeddings app: a product change marks the product's vectors stale (re-embedded in
the background after commit)."""

from django.dispatch import receiver

from catalog.signals import products_changed

from .services.freshness import products_mark_stale


@receiver(products_changed)
def mark_stale_after_change(sender, product_ids: list[int], **kwargs) -> None:
    products_mark_stale(product_ids=product_ids)
