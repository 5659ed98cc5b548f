"""Django admin for the catalog: products with their main photo, embedding status and photo errors; variants,
photos and reviews inline. Writes announce themselves through the catalog services (``catalog.signals``); the
product list's actions come from the apps that own them (``product_action_register``: the embeddings app adds
"re-embed selected products now" and "mark selected products stale")."""

from collections.abc import Callable

from django.contrib import admin
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils.html import format_html

from .models import Category, Product, ProductCategory, ProductImage, Review, Variant
from .services import products_changed, products_deleted, reviews_changed

THUMBNAIL_HEIGHT = 48

# Actions of the product list that other apps contribute: admin action functions ``(modeladmin, request,
# queryset)``, in registration order. The list is ``ProductAdmin.actions`` itself.
PRODUCT_ACTIONS: list[Callable] = []


def product_action_register(action: Callable) -> Callable:
    """Add an admin action (a function decorated with ``admin.action``) to the product list; returns it, so it can
    be used as a decorator. Called from the owning app's ``admin.py`` (loaded by the admin's autodiscovery)."""
    if action not in PRODUCT_ACTIONS:
        PRODUCT_ACTIONS.append(action)
    return action


def thumbnail_html(url: str | None, *, height: int = THUMBNAIL_HEIGHT) -> str:
    if not url:
        return "-"
    return format_html('<img src="{}" alt="" style="height:{}px;max-width:{}px;object-fit:contain">', url, height,
                       height * 2)  # fmt: skip


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    extra = 0
    fields = ("thumbnail", "position", "source", "width", "height", "error")
    readonly_fields = ("thumbnail", "source", "width", "height", "error")

    @admin.display(description="photo")
    def thumbnail(self, image: ProductImage) -> str:
        return thumbnail_html(image.file.url if image.file else None, height=64)


class VariantInline(admin.TabularInline):
    model = Variant
    extra = 0
    fields = ("sku", "attributes", "in_stock", "price")


class ReviewInline(admin.TabularInline):
    model = Review
    extra = 0
    fields = ("rating", "title", "author", "created_at")
    readonly_fields = fields


class EmbeddingStatusFilter(admin.SimpleListFilter):
    title = "embedding status"
    parameter_name = "embedding"

    def lookups(self, request, model_admin):
        return [("fresh", "fresh"), ("stale", "stale"), ("failed", "failed")]

    def queryset(self, request, queryset):
        if self.value() == "failed":
            return queryset.exclude(embedding_error="")
        if self.value() == "stale":
            return queryset.filter(embeddings_stale=True, embedding_error="")
        if self.value() == "fresh":
            return queryset.filter(embeddings_stale=False, embedding_error="")
        return queryset


class PhotoErrorFilter(admin.SimpleListFilter):
    title = "photo errors"
    parameter_name = "photo_errors"

    def lookups(self, request, model_admin):
        return [("yes", "with photo errors"), ("no", "without")]

    def queryset(self, request, queryset):
        failing = ProductImage.objects.exclude(error="").values("product_id")
        if self.value() == "yes":
            return queryset.filter(id__in=failing)
        if self.value() == "no":
            return queryset.exclude(id__in=failing)
        return queryset


def embedding_status(product: Product) -> str:
    if product.embedding_error:
        return "failed"
    return "stale" if product.embeddings_stale else "fresh"


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("photo", "sku", "name", "primary_category", "price", "in_stock", "embedding", "photo_errors")
    list_display_links = ("photo", "sku")
    list_filter = ("in_stock", EmbeddingStatusFilter, PhotoErrorFilter, "brand", "primary_category")
    search_fields = ("sku", "name", "brand", "variants__sku")
    list_select_related = ("primary_category",)
    list_per_page = 50
    readonly_fields = ("created_at", "updated_at", "source_hash", "content_version", "embeddings_stale",
                       "embedding_error", "rating_average", "rating_count")  # fmt: skip
    inlines = [ProductImageInline, VariantInline, ReviewInline]
    actions = PRODUCT_ACTIONS  # filled by other apps' admin modules (product_action_register)

    def save_related(self, request, form, formsets, change) -> None:
        """After the product and its inlines are saved, the change is announced like every product change (its
        search document, stale embeddings, cached results containing it dropped on commit)."""
        super().save_related(request, form, formsets, change)
        products_changed(product_ids=[form.instance.pk])

    def delete_model(self, request, obj) -> None:
        self.delete_queryset(request, Product.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset) -> None:
        ids = list(queryset.values_list("id", flat=True))
        super().delete_queryset(request, queryset)
        products_deleted(product_ids=ids)

    def get_queryset(self, request) -> QuerySet:
        usable = ProductImage.objects.filter(product=OuterRef("pk"), error="").exclude(file="").order_by("position")
        return (
            super()
            .get_queryset(request)
            .annotate(
                main_photo=Subquery(usable.values("file")[:1]),
                photo_error_count=Count("images", filter=~Q(images__error=""), distinct=True),
            )
        )

    @admin.display(description="photo")
    def photo(self, product: Product) -> str:
        if not product.main_photo:
            return "-"
        return thumbnail_html(ProductImage._meta.get_field("file").storage.url(product.main_photo))

    @admin.display(description="embedding", ordering="embeddings_stale")
    def embedding(self, product: Product) -> str:
        status = embedding_status(product)
        colours = {"fresh": "#1a7f37", "stale": "#9a6700", "failed": "#cf222e"}
        if status == "failed":
            return format_html('<span style="color:{}" title="{}">failed: {}</span>', colours[status],
                               product.embedding_error, product.embedding_error[:80])  # fmt: skip
        return format_html('<span style="color:{}">{}</span>', colours[status], status)

    @admin.display(description="photo errors", ordering="photo_error_count")
    def photo_errors(self, product: Product) -> str:
        count = product.photo_error_count
        return format_html('<span style="color:#cf222e">{}</span>', count) if count else "0"


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("path", "depth")
    search_fields = ("path",)

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if change:  # its products' documents and cards show the category
            listed = ProductCategory.objects.filter(category=obj).values_list("product_id", flat=True)
            ids = set(listed) | set(Product.objects.filter(primary_category=obj).values_list("id", flat=True))
            if ids:
                products_changed(product_ids=sorted(ids))


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ("product", "rating", "title", "author", "created_at")
    list_filter = ("rating",)
    search_fields = ("product__sku", "title", "body")
    raw_id_fields = ("product",)

    def save_model(self, request, obj, form, change) -> None:
        previous = Review.objects.filter(pk=obj.pk).values_list("product_id", flat=True).first() if change else None
        super().save_model(request, obj, form, change)
        reviews_changed(product_ids=sorted({obj.product_id} | ({previous} if previous else set())))

    def delete_model(self, request, obj) -> None:
        self.delete_queryset(request, Review.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset) -> None:
        ids = sorted(set(queryset.values_list("product_id", flat=True)))
        super().delete_queryset(request, queryset)
        reviews_changed(product_ids=ids)
