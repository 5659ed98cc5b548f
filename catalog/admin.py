"""Django admin for the catalog: browse products with their photos, variants and reviews."""

from django.contrib import admin
from django.utils.html import format_html

from .models import Category, Product, ProductImage, Review, Variant


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    extra = 0
    fields = ("thumbnail", "position", "source", "width", "height", "error")
    readonly_fields = ("thumbnail", "source", "width", "height", "error")

    @admin.display(description="photo")
    def thumbnail(self, image: ProductImage) -> str:
        if not image.file:
            return "-"
        return format_html('<img src="{}" style="height:64px">', image.file.url)


class VariantInline(admin.TabularInline):
    model = Variant
    extra = 0
    fields = ("sku", "attributes", "in_stock", "price")


class ReviewInline(admin.TabularInline):
    model = Review
    extra = 0
    fields = ("rating", "title", "author", "created_at")
    readonly_fields = fields


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("sku", "name", "primary_category", "price", "currency", "in_stock", "updated_at")
    list_filter = ("in_stock", "brand", "primary_category")
    search_fields = ("sku", "name", "variants__sku")
    list_select_related = ("primary_category",)
    readonly_fields = ("created_at", "updated_at", "source_hash")
    inlines = [ProductImageInline, VariantInline, ReviewInline]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("path", "depth")
    search_fields = ("path",)


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ("product", "rating", "title", "author", "created_at")
    list_filter = ("rating",)
    search_fields = ("product__sku", "title", "body")
    raw_id_fields = ("product",)
