"""Catalog read endpoints (``/api/v1/products``, ``/api/v1/products/{sku}``, ``/api/v1/categories``,
``/api/v1/attributes``) and the staff-only writes, with a staff token or an admin API key: single products (``PUT``
replaces, ``PATCH`` changes the fields it names) and the attribute setup (``PUT /api/v1/attributes``)."""

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from shop_search.db import ReplicaReads
from shop_search.serializers import error_responses

from .models import Category, Product, ProductImage
from .records import RecordError, parse_product
from .selectors import attribute_names_in_catalog, attribute_setup
from .services import AttributeSetupError, PhotoCache, attribute_setup_save, product_upsert


class ProductPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


class ImageOutput(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = ProductImage
        fields = ["position", "url", "width", "height"]

    def get_url(self, image) -> str:
        return image.file.url


class ProductListOutput(serializers.ModelSerializer):
    category = serializers.CharField(source="primary_category.path", default=None, allow_null=True)
    photo_url = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = ["sku", "name", "price", "currency", "in_stock", "brand", "category", "photo_url",
                  "rating_average", "rating_count"]  # fmt: skip

    def get_photo_url(self, product) -> str | None:
        images = list(product.usable_images)
        return images[0].file.url if images else None


class AttributeValueOutput(serializers.Serializer):
    name = serializers.CharField(help_text="the attribute's key (as in attributes and in filters)")
    label = serializers.CharField(help_text="what shoppers read (the shop's attribute setup)")
    value = serializers.JSONField(help_text="a text or a list of texts")


class ProductDetailOutput(ProductListOutput):
    categories = serializers.SlugRelatedField(many=True, read_only=True, slug_field="path")
    images = ImageOutput(source="usable_images", many=True)
    variants = serializers.SerializerMethodField()
    attribute_list = serializers.SerializerMethodField(help_text="the attributes with their labels, in display order")
    attribute_labels = serializers.SerializerMethodField(help_text="label of every attribute key of the product and "
                                                         "its variants")  # fmt: skip

    class Meta(ProductListOutput.Meta):
        fields = ProductListOutput.Meta.fields + ["description", "attributes", "attribute_list", "attribute_labels",
                                                  "categories", "images", "variants"]  # fmt: skip

    @extend_schema_field(AttributeValueOutput(many=True))
    def get_attribute_list(self, product) -> list[dict]:
        setup = attribute_setup()
        attributes = product.attributes if isinstance(product.attributes, dict) else {}
        return [{"name": name, "label": setup.label(name), "value": attributes[name]}
                for name in setup.ordered(attributes)]  # fmt: skip

    @extend_schema_field(serializers.DictField(child=serializers.CharField()))
    def get_attribute_labels(self, product) -> dict[str, str]:
        setup = attribute_setup()
        names = set(product.attributes) if isinstance(product.attributes, dict) else set()
        for variant in product.variants.all():
            names.update(variant.attributes if isinstance(variant.attributes, dict) else ())
        return {name: setup.label(name) for name in setup.ordered(names)}

    def get_variants(self, product) -> list[dict]:
        return [
            {"sku": v.sku, "attributes": v.attributes, "in_stock": v.in_stock,
             "price": str(v.price) if v.price is not None else None}
            for v in product.variants.all()
        ]  # fmt: skip


def _products():
    usable = ProductImage.objects.filter(error="").exclude(file="").order_by("position")
    return Product.objects.select_related("primary_category").prefetch_related(
        Prefetch("images", queryset=usable, to_attr="usable_images")
    )


def _visible(request, products):
    """``products`` as the caller may see them: an API key whose filters hold its searches to part of the catalog
    (a brand, a category) sees only that part here too (``request.auth.products_restrict``, api_keys)."""
    restrict = getattr(request.auth, "products_restrict", None)
    return restrict(products) if restrict else products


class ProductPageOutput(serializers.Serializer):
    """A page of the product list (``ProductPagination``)."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ProductListOutput(many=True)


class ProductRecordInput(serializers.Serializer):
    """Documentation of a product record in the catalog format (docs/catalog-format.md), as ``PUT`` and ``PATCH``
    take it; ``catalog.records.parse_product`` validates it, as it does an import line."""

    name = serializers.CharField(max_length=255)
    description = serializers.CharField(required=False, allow_blank=True, max_length=100_000, help_text="may be HTML")
    categories = serializers.ListField(child=serializers.CharField(max_length=512), required=False, max_length=50)
    brand = serializers.CharField(required=False, allow_blank=True, max_length=120)
    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True)
    currency = serializers.CharField(required=False, min_length=3, max_length=3, help_text="ISO 4217, default USD")
    in_stock = serializers.BooleanField(required=False)
    attributes = serializers.DictField(required=False, help_text="name -> text or list of texts")
    images = serializers.ListField(child=serializers.CharField(max_length=2048), required=False, max_length=50,
                                   help_text="http(s) URLs")  # fmt: skip
    variants = serializers.ListField(child=serializers.DictField(), required=False, max_length=1000,
                                     help_text="each {sku, attributes, images, in_stock, price}")  # fmt: skip


class ProductWriteOutput(ProductDetailOutput):
    """The product as stored after a write, with the problems the record had (a photo that could not be read)."""

    problems = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta(ProductDetailOutput.Meta):
        fields = ProductDetailOutput.Meta.fields + ["problems"]


class ProductListApi(ReplicaReads, APIView):
    @extend_schema(
        parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int, description="at most 100")],
        operation_id="v1_products_list",
        responses={200: ProductPageOutput, **error_responses(404)},
    )
    def get(self, request):
        paginator = ProductPagination()
        page = paginator.paginate_queryset(_visible(request, _products()).order_by("sku"), request, view=self)
        return paginator.get_paginated_response(ProductListOutput(page, many=True).data)


class ProductDetailApi(ReplicaReads, APIView):
    parser_classes = [JSONParser]  # a record is a JSON object (the catalog format); a form is a 415

    def get_permissions(self):
        return [IsAdminUser()] if self.request.method in ("PUT", "PATCH") else super().get_permissions()

    @extend_schema(responses={200: ProductDetailOutput, **error_responses(404)})
    def get(self, request, sku: str):
        product = get_object_or_404(_visible(request, _products()).prefetch_related("categories", "variants"), sku=sku)
        return Response(ProductDetailOutput(product).data)

    @extend_schema(request=ProductRecordInput, responses={200: ProductWriteOutput, 201: ProductWriteOutput,
                                                          **error_responses(413, 415)})  # fmt: skip
    def put(self, request, sku: str):
        """Create or replace one product from a record in the catalog format (photos as http(s) URLs): fields the
        record leaves out take their defaults."""
        return self._write(request, sku, partial=False)

    @extend_schema(request=ProductRecordInput, responses={200: ProductWriteOutput, **error_responses(404, 413, 415)})
    def patch(self, request, sku: str):
        """Change the fields the body names (catalog format); the product keeps every other field."""
        get_object_or_404(Product.objects.only("pk"), sku=sku)
        return self._write(request, sku, partial=True)

    def _write(self, request, sku: str, *, partial: bool) -> Response:
        data = request.data if isinstance(request.data, dict) else {}
        if data.get("sku", sku) != sku:
            raise serializers.ValidationError({"sku": ["must match the URL"]})
        try:
            record = parse_product({**data, "sku": sku}, partial=partial)
        except RecordError as exc:
            raise serializers.ValidationError({"product": [str(exc)]}) from None
        sources = record.images + [source for variant in record.variants for source in variant.images]
        if any("://" not in source for source in sources):
            raise serializers.ValidationError({"images": ["photos must be http(s) URLs here"]})
        result = product_upsert(record=record, photo_cache=PhotoCache(base_dir=None), replace=not partial)
        product = _products().prefetch_related("categories", "variants").get(pk=result.product.pk)
        body = ProductDetailOutput(product).data
        body["problems"] = result.warnings + result.photo_errors
        return Response(body, status=status.HTTP_201_CREATED if result.outcome == "created" else status.HTTP_200_OK)


class CategoryOutput(serializers.Serializer):
    path = serializers.CharField()
    name = serializers.CharField()
    depth = serializers.IntegerField()


class CategoryPageOutput(serializers.Serializer):
    results = CategoryOutput(many=True)


class CategoryListApi(ReplicaReads, APIView):
    @extend_schema(responses={200: CategoryPageOutput, **error_responses()})
    def get(self, request):
        rows = Category.objects.order_by("path").values("path", "name", "depth")
        return Response({"results": list(rows)})


# --- attribute setup -------------------------------------------------------------------------------------------


class AttributeSettingSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, help_text="an attribute key, or category, brand, price, rating")
    label = serializers.CharField(max_length=100, required=False, allow_blank=True, help_text="empty: from the key")
    position = serializers.IntegerField(min_value=0, max_value=32767, required=False)
    facet = serializers.BooleanField(required=False)
    filterable = serializers.BooleanField(required=False, help_text="built-ins are always filterable")
    sortable = serializers.BooleanField(required=False)


class AttributeSettingOutput(AttributeSettingSerializer):
    builtin = serializers.BooleanField()
    products = serializers.IntegerField(help_text="products (with their variants) that have it; null: a built-in",
                                        allow_null=True)  # fmt: skip


class AttributeSetupOutput(serializers.Serializer):
    results = AttributeSettingOutput(many=True)


class AttributeSetupInput(serializers.Serializer):
    results = AttributeSettingSerializer(many=True, max_length=1000)


def _setup_payload(setup=None) -> dict:
    setup = setup or attribute_setup()
    counts = attribute_names_in_catalog()
    names = setup.ordered({spec.name for spec in setup.specs} | set(counts))
    return {"results": [{**setup.get(name).as_dict(), "products": None if setup.get(name).builtin
                         else counts.get(name, 0)} for name in names]}  # fmt: skip


class AttributeSetupApi(ReplicaReads, APIView):
    """The shop's attribute setup: which attributes are facets, their labels and order, which are filterable and
    sortable. Every attribute of the catalog is listed, with what applies to it (its defaults when the shop set
    nothing). ``PUT`` (staff) replaces the setup; an attribute it leaves out takes its defaults."""

    parser_classes = [JSONParser]

    def get_permissions(self):
        return [IsAdminUser()] if self.request.method == "PUT" else super().get_permissions()

    @extend_schema(responses={200: AttributeSetupOutput, **error_responses()})
    def get(self, request):
        return Response(_setup_payload())

    @extend_schema(request=AttributeSetupInput, responses={200: AttributeSetupOutput, **error_responses(415)})
    def put(self, request):
        serializer = AttributeSetupInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            setup = attribute_setup_save(settings=serializer.validated_data["results"])
        except AttributeSetupError as exc:
            raise serializers.ValidationError({"results": [str(exc)]}) from None
        return Response(_setup_payload(setup))
