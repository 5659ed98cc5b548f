"""Django admin for embeddings: generations, trained heads and jobs (read-mostly; operations come from the
embedding operations page and the management commands), and the product list's embedding actions ("re-embed
selected products now", "mark selected products stale"), which this app adds to the catalog's product admin."""

from django.contrib import admin, messages

from catalog.admin import product_action_register

from .models import EmbeddingGeneration, Job, TrainedHead
from .services.freshness import products_mark_stale, products_reembed


@product_action_register
@admin.action(description="Re-embed selected products now")
def reembed_selected(modeladmin, request, queryset) -> None:
    ids = list(queryset.values_list("id", flat=True))
    products_reembed(product_ids=ids)
    modeladmin.message_user(request, f"{len(ids)} product(s) queued for embedding.", messages.SUCCESS)


@product_action_register
@admin.action(description="Mark selected products stale")
def mark_stale(modeladmin, request, queryset) -> None:
    ids = list(queryset.values_list("id", flat=True))
    products_mark_stale(product_ids=ids)
    modeladmin.message_user(request, f"{len(ids)} product(s) marked stale; the embedding task picks them up.",
                            messages.SUCCESS)  # fmt: skip


@admin.register(EmbeddingGeneration)
class EmbeddingGenerationAdmin(admin.ModelAdmin):
    list_display = ("id", "state", "head", "image_weight", "text_weight", "joint_dim", "created_at", "activated_at")
    list_filter = ("state",)
    readonly_fields = [f.name for f in EmbeddingGeneration._meta.fields]


@admin.register(TrainedHead)
class TrainedHeadAdmin(admin.ModelAdmin):
    list_display = ("id", "joint_dim", "created_at")
    exclude = ("weights",)
    readonly_fields = ("encoder_spec", "config", "report", "joint_dim", "created_at")


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "state", "percent", "message", "requeues", "created_at", "finished_at")
    list_filter = ("kind", "state")
    readonly_fields = [f.name for f in Job._meta.fields]
