"""Django admin for embeddings: generations, trained heads and jobs (read-mostly; operations come from the
embedding operations page and the management commands)."""

from django.contrib import admin

from .models import EmbeddingGeneration, Job, TrainedHead


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
    list_display = ("id", "kind", "state", "percent", "message", "created_at", "finished_at")
    list_filter = ("kind", "state")
    readonly_fields = [f.name for f in Job._meta.fields]
