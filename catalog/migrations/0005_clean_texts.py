"""Clean text in rows imported before the import cleaned it (``catalog.records.clean_text``): product names and
brands, attribute values of products and variants, category names and paths. ``EverCool&trade;`` becomes
``EverCool™``, ``<b>`` tags go. A changed product is re-embedded (its text changed: stale) and its search document
rebuilt, so the API, the cards and the full-text index all say the clean text.

Why a migration and not a re-import: an import skips lines that did not change since the last one (their hash),
so the rows would stay as they are until the shop re-imported with ``--force``; the migration fixes them once, at
deployment, from what is stored.
"""

from django.db import DatabaseError, migrations, transaction
from django.db.models import F

BATCH = 2000


def _clean_attributes(attributes, clean_text):
    if not isinstance(attributes, dict):
        return attributes
    cleaned = {}
    for name, value in attributes.items():
        if isinstance(value, list):
            cleaned[name] = [clean_text(item) if isinstance(item, str) else item for item in value]
        elif isinstance(value, str):
            cleaned[name] = clean_text(value)
        else:
            cleaned[name] = value
    return cleaned


def clean_catalog_texts(apps, schema_editor=None) -> list[int]:
    """Clean every stored text; returns the ids of the products that changed (their documents were rebuilt)."""
    from catalog.records import clean_text

    Product = apps.get_model("catalog", "Product")
    Variant = apps.get_model("catalog", "Variant")
    Category = apps.get_model("catalog", "Category")
    changed: set[int] = set()

    pending = []
    for product in Product.objects.only("id", "name", "brand", "attributes").iterator(chunk_size=BATCH):
        name = clean_text(product.name) or product.name
        brand = clean_text(product.brand)
        attributes = _clean_attributes(product.attributes, clean_text)
        if (name, brand, attributes) != (product.name, product.brand, product.attributes):
            product.name, product.brand, product.attributes = name, brand, attributes
            pending.append(product)
            changed.add(product.id)
        if len(pending) >= BATCH:
            Product.objects.bulk_update(pending, ["name", "brand", "attributes"])
            pending = []
    Product.objects.bulk_update(pending, ["name", "brand", "attributes"])

    pending = []
    for variant in Variant.objects.only("id", "product_id", "attributes").iterator(chunk_size=BATCH):
        attributes = _clean_attributes(variant.attributes, clean_text)
        if attributes != variant.attributes:
            variant.attributes = attributes
            pending.append(variant)
            changed.add(variant.product_id)
        if len(pending) >= BATCH:
            Variant.objects.bulk_update(pending, ["attributes"])
            pending = []
    Variant.objects.bulk_update(pending, ["attributes"])

    # A category's path is every level's name: each level is cleaned, so a node and its descendants agree. A
    # cleaned path that another category already has is left alone (merging them is the shop's decision).
    taken = set(Category.objects.values_list("path", flat=True))
    for category in Category.objects.order_by("depth", "path"):
        path = "/".join(clean_text(part) or part for part in category.path.split("/"))
        name = clean_text(category.name) or category.name
        if (path, name) == (category.path, category.name) or (path != category.path and path in taken):
            continue
        taken.add(path)
        Category.objects.filter(pk=category.pk).update(path=path, name=name)
        changed.update(Product.objects.filter(categories=category).values_list("id", flat=True))
        changed.update(Product.objects.filter(primary_category=category).values_list("id", flat=True))

    ids = sorted(changed)
    if ids:
        Product.objects.filter(id__in=ids).update(content_version=F("content_version") + 1, embeddings_stale=True)
        _documents_rebuild(apps, ids)
    return ids


def _documents_rebuild(apps, ids: list[int]) -> None:
    if not apps.is_installed("search"):
        return
    from search.documents import search_documents_update

    try:
        with transaction.atomic():
            search_documents_update(product_ids=ids)
    except DatabaseError as exc:  # a later search migration not applied yet: the command rebuilds them
        print(f"\n  search documents of {len(ids)} cleaned products not rebuilt ({exc}); "
              "run `manage.py search_documents`")  # fmt: skip


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0004_attribute_settings"),
        ("search", "0004_searchlog_joint_space_health"),
    ]

    operations = [migrations.RunPython(clean_catalog_texts, migrations.RunPython.noop)]
