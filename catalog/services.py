"""Writes to the catalog: import a catalog folder, create or update one product, add a review.

``product_upsert`` writes one product (the write API, the admin, the line-by-line import); the bulk import
(``catalog.bulk``, what ``catalog_import`` does by default) writes a batch of lines at a time with the same rules
(``product_values``, ``images_plan``, ``variants_plan``). Either way each product (or batch) is written in its own
transaction, so an import that stops half way keeps everything it finished, and running it again completes it
without duplicates.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.db.models import Avg, Count
from django.utils import timezone

from . import photos, signals
from .models import Category, Product, ProductCategory, ProductImage, Review, Variant
from .records import (
    ATTRIBUTE_NAME_MAX_LENGTH,
    PRODUCT_FIELDS,
    Line,
    ProductRecord,
    RecordError,
    ReviewRecord,
    clean_text,
    load_object,
    parse_product,
    parse_review,
    read_lines,
)
from .selectors import AttributeSetup

logger = logging.getLogger(__name__)

PRODUCTS_FILE = "products.jsonl"
REVIEWS_FILE = "reviews.jsonl"

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ImportIssue:
    location: str  # "products.jsonl:12"
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    reviews_created: int = 0
    reviews_unchanged: int = 0
    reviews_skipped: int = 0
    photos_attached: int = 0
    photo_errors: int = 0
    issues: list[ImportIssue] = field(default_factory=list)

    @property
    def products_read(self) -> int:
        return self.created + self.updated + self.unchanged

    @property
    def usable(self) -> bool:
        """Whether anything at all could be imported (the import command fails otherwise)."""
        return self.products_read + self.reviews_created + self.reviews_unchanged > 0

    def summary(self) -> str:
        return (
            f"products: {self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.skipped} skipped; reviews: {self.reviews_created} created, {self.reviews_unchanged} "
            f"unchanged, {self.reviews_skipped} skipped; photos: {self.photos_attached} attached, "
            f"{self.photo_errors} with errors; {len(self.issues)} problems reported"
        )


def photo_store(*, source: str, base_dir: Path | None) -> photos.StoredPhoto | photos.PhotoError:
    """Read, check and store one photo source; what cannot be used comes back as the ``PhotoError``."""
    try:
        return photos.store(photos.read_source(source, base_dir=base_dir))
    except photos.PhotoError as exc:
        return exc


class PhotoCache:
    """Each photo source of one import is read and checked once, however many products and variants use it.
    The bulk import fills it ahead, in parallel (``catalog.bulk``); ``get`` reads what is not there yet."""

    def __init__(self, base_dir: Path | None):
        self.base_dir = base_dir
        self._results: dict[str, photos.StoredPhoto | photos.PhotoError] = {}

    def get(self, source: str) -> photos.StoredPhoto | photos.PhotoError:
        if source not in self._results:
            self._results[source] = photo_store(source=source, base_dir=self.base_dir)
        return self._results[source]

    def missing(self, sources: list[str]) -> list[str]:
        """The distinct ``sources`` not read yet, in order."""
        return [source for source in dict.fromkeys(sources) if source not in self._results]

    def put(self, source: str, result: photos.StoredPhoto | photos.PhotoError) -> None:
        self._results[source] = result


@dataclass
class UpsertResult:
    product: Product
    outcome: str  # "created", "updated" or "unchanged"
    photo_errors: list[str] = field(default_factory=list)
    photos_attached: int = 0
    warnings: list[str] = field(default_factory=list)


def record_hash(data: dict, *, base_dir: Path | None = None) -> str:
    """Hash of an imported line and of the local photo files it names (size and modification time), so that a
    photo replaced under the same path counts as a change. Photo URLs are not fetched for this: a changed photo
    behind the same URL needs ``import_catalog --force``."""
    stats = []
    if base_dir is not None:
        sources = list(data.get("images") or []) if isinstance(data.get("images"), list) else []
        for variant in data.get("variants") or []:
            if isinstance(variant, dict) and isinstance(variant.get("images"), list):
                sources += variant["images"]
        for source in sources:
            if isinstance(source, str) and "://" not in source:
                try:
                    stat = (base_dir / source).stat()
                    stats.append([source, stat.st_size, stat.st_mtime_ns])
                except OSError:
                    stats.append([source, None, None])
    payload = json.dumps([data, stats], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def category_ensure(*, path: str, cache: dict[str, Category] | None = None) -> Category:
    """The category at ``path``, creating it and any missing ancestors."""
    cache = {} if cache is None else cache
    if path in cache:
        return cache[path]
    parts = path.split("/")
    parent = category_ensure(path="/".join(parts[:-1]), cache=cache) if len(parts) > 1 else None
    category, _ = Category.objects.get_or_create(
        path=path, defaults={"name": parts[-1], "parent": parent, "depth": len(parts) - 1}
    )
    cache[path] = category
    return category


def product_upsert(
    *,
    record: ProductRecord,
    photo_cache: PhotoCache,
    source_hash: str = "",
    category_cache: dict[str, Category] | None = None,
    replace: bool = False,
) -> UpsertResult:
    """Create or update the product ``record.sku`` with its categories, photos and variants, atomically.

    The fields the record names replace what is stored; those it leaves out are kept (``replace``: every field
    takes the record's value or its default, as a ``PUT``). A list the record names is authoritative: categories,
    photos and variants it no longer lists are removed. Except photos: one that cannot be read never costs the
    product a photo, so its earlier copy stays, and while any listed photo is unreadable the photos the record no
    longer lists stay too. Only a real change is written and announced (re-embedding follows it); with an
    unchanged ``source_hash`` and no photo errors left from last time, nothing is even read.
    """
    existing = Product.objects.filter(sku=record.sku).first()
    if (
        existing is not None
        and source_hash
        and existing.source_hash == source_hash
        and not existing.images.exclude(error="").exists()
    ):
        return UpsertResult(product=existing, outcome="unchanged")
    given = frozenset(PRODUCT_FIELDS) if replace or existing is None else record.present

    # Photos are read and stored before the transaction: slow I/O must not hold row locks.
    sources = list(record.images)
    for variant in record.variants if "variants" in given else []:
        sources += [source for source in variant.images if source not in sources]
    stored = {source: photo_cache.get(source) for source in sources}
    # A photo that could not be read is read again by the next import of the same line: the line's hash is kept
    # only when every photo was read (an earlier copy kept in its place leaves no error row to retry by).
    if any(isinstance(photo, photos.PhotoError) for photo in stored.values()):
        source_hash = ""

    with transaction.atomic():
        product = Product.objects.select_for_update().filter(sku=record.sku).first()
        outcome = "updated" if product else "created"
        product = product or Product(sku=record.sku)
        fields_changed = product_fields_apply(product, record, given, category_cache)
        product.source_hash = source_hash
        if product.pk is None:
            product.save()
        else:
            product.save(update_fields=[*fields_changed, "source_hash", *(["updated_at"] if fields_changed else [])])
        changed = list(fields_changed)
        if "categories" in given:
            changed += _set_categories(product, [category_ensure(path=path, cache=category_cache)
                                                 for path in record.categories])  # fmt: skip
        if "images" in given or "variants" in given:
            images, photos_changed, warnings = _set_images(product, record, given, stored)
            changed += photos_changed
        else:
            images, warnings = {}, []
        if "variants" in given:
            changed += _set_variants(product, record, images, warnings)
        if outcome == "updated" and not changed:
            outcome = "unchanged"
        else:
            if changed and not fields_changed:  # only its categories, photos or variants changed
                Product.objects.filter(pk=product.pk).update(updated_at=timezone.now())
            products_changed(product_ids=[product.id])

    result = UpsertResult(product=product, outcome=outcome, warnings=record.warnings + warnings)
    for source, photo in stored.items():
        if isinstance(photo, photos.PhotoError):
            result.photo_errors.append(f"photo {source}: {photo}")
        else:
            result.photos_attached += 1
    return result


def product_values(
    record: ProductRecord, given: frozenset[str], category_cache: dict[str, Category] | None
) -> dict[str, Any]:
    """The model fields the record's ``given`` fields set, by name (the primary category from ``category_cache``, or
    created: no query when it is in the cache)."""
    values: dict[str, Any] = {}
    if "name" in given:
        values["name"] = record.name
    if "description" in given:
        values["description"], values["description_html"] = record.description, record.description_html
    for name in ("brand", "price", "currency", "in_stock", "attributes"):
        if name in given:
            values[name] = getattr(record, name)
    if "categories" in given:
        primary = record.categories[0] if record.categories else None
        values["primary_category"] = category_ensure(path=primary, cache=category_cache) if primary else None
    return values


def product_fields_apply(
    product: Product, record: ProductRecord, given: frozenset[str], category_cache: dict[str, Category] | None
) -> list[str]:
    """Copy the record's ``given`` fields onto ``product`` (unsaved; ``product_values``); the names of the model
    fields that changed."""
    changed = []
    for name, value in product_values(record, given, category_cache).items():
        # The category by id: reading ``product.primary_category`` would load the row (a query per product).
        current = product.primary_category_id if name == "primary_category" else getattr(product, name)
        if current != (value.id if name == "primary_category" and value is not None else value):
            setattr(product, name, value)
            changed.append(name)
    return changed


def _set_categories(product: Product, categories: list[Category]) -> list[str]:
    """Make the product's category links match ``categories`` in order; ``["categories"]`` if anything changed."""
    wanted = {category.id: position for position, category in enumerate(categories)}
    links = {link.category_id: link for link in ProductCategory.objects.filter(product=product)}
    removed, _ = ProductCategory.objects.filter(product=product).exclude(category_id__in=wanted).delete()
    added = [ProductCategory(product=product, category_id=category_id, position=position)
             for category_id, position in wanted.items() if category_id not in links]  # fmt: skip
    moved = [links[category_id] for category_id, position in wanted.items()
             if category_id in links and links[category_id].position != position]  # fmt: skip
    for link in moved:
        link.position = wanted[link.category_id]
    ProductCategory.objects.bulk_create(added)
    ProductCategory.objects.bulk_update(moved, ["position"])
    return ["categories"] if removed or added or moved else []


def _set_images(
    product: Product,
    record: ProductRecord,
    given: frozenset[str],
    stored: dict[str, photos.StoredPhoto | photos.PhotoError],
) -> tuple[dict[str, ProductImage], list[str], list[str]]:
    """Make the product's photo rows follow the record (``images_plan``), keeping the rows (and ids) of known
    sources. Returns the rows by source, ``["images"]`` if anything changed, and warnings."""
    plan = images_plan(
        record=record,
        given=given,
        stored=stored,
        rows=list(ProductImage.objects.filter(product=product).order_by("position")),
        kept_by_variants=set()
        if "variants" in given
        else set(ProductImage.objects.filter(product=product, variants__isnull=False).values_list("source", flat=True)),
    )
    ProductImage.objects.filter(pk__in=plan.delete).delete()
    for image in plan.save:
        image.product = product
        image.save()
    return plan.rows, ["images"] if plan.changed else [], plan.warnings


@dataclass
class ImagesPlan:
    """What a record does to a product's photo rows: the rows by source in their new order, those to write (new
    or changed), the ids of those to delete, whether what shoppers see changed, and warnings."""

    rows: dict[str, ProductImage]
    save: list[ProductImage]
    delete: list[int]
    changed: bool
    warnings: list[str]


def images_plan(
    *,
    record: ProductRecord,
    given: frozenset[str],
    stored: dict[str, photos.StoredPhoto | photos.PhotoError],
    rows: list[ProductImage],
    kept_by_variants: set[str],
) -> ImagesPlan:
    """Plan the product's photo rows (``rows``: what is stored, by position) after the record; no query.

    A listed photo that cannot be read keeps the copy stored earlier; while any listed photo cannot be read,
    photos the record no longer lists are kept after the listed ones (they go on the import that reads every listed
    photo). ``kept_by_variants``: the sources of photos the product's variants show, when the record leaves the
    variants as they are (those photos stay as long as the variants do). New rows have no product set."""
    by_source = {image.source: image for image in rows}
    # What shoppers and the encoders see is the usable photos in order: an unreadable one is only recorded.
    seen_before = [(image.source, image.file.name) for image in by_source.values() if image.usable]
    # A record that names variants but not photos keeps the product's photos, and adds its variants' new ones.
    listed = list(record.images) if "images" in given else list(by_source)
    listed += [source for source in stored if source not in listed]
    failed = [source for source in listed if isinstance(stored.get(source), photos.PhotoError)]
    unlisted = [source for source in by_source if source not in listed]
    keep = [source for source in unlisted if failed or source in kept_by_variants]
    warnings = []
    if failed and any(by_source[source].usable for source in keep):
        warnings.append(
            f"kept {len(keep)} earlier photo(s) the record no longer lists, because {len(failed)} listed photo(s) "
            f"could not be read"
        )
    delete = [by_source[source].pk for source in unlisted if source not in keep]
    result, save = {}, []
    for position, source in enumerate(listed + keep):
        image = by_source.get(source) or ProductImage(source=source)
        before = (image.pk, image.position, image.file.name if image.file else "", image.error)
        image.position = position
        photo = stored.get(source)
        if isinstance(photo, photos.PhotoError):
            if image.usable:
                warnings.append(f"photo {source}: kept the copy read earlier")
            else:
                image.file, image.content_hash, image.width, image.height = "", "", None, None
                image.error = str(photo)
        elif photo is not None:
            image.file = photo.name
            image.content_hash = photo.content_hash
            image.width, image.height = photo.width, photo.height
            image.error = ""
        if before != (image.pk, image.position, image.file.name if image.file else "", image.error):
            save.append(image)
        result[source] = image
    seen_after = [(image.source, image.file.name) for image in result.values() if image.usable]
    return ImagesPlan(rows=result, save=save, delete=delete, changed=seen_before != seen_after, warnings=warnings)


def _set_variants(
    product: Product, record: ProductRecord, images: dict[str, ProductImage], warnings: list[str]
) -> list[str]:
    """Make the product's variants match the record's (``variants_plan``); ``["variants"]`` if anything changed."""
    # Variant skus are unique across the catalog: one claimed by another product is reported, not stolen.
    taken = dict(
        Variant.objects.filter(sku__in=[v.sku for v in record.variants])
        .exclude(product=product)
        .values_list("sku", "product__sku")
    )
    existing = list(Variant.objects.filter(product=product).prefetch_related("images"))
    plan = variants_plan(
        record=record,
        images=images,
        existing=existing,
        image_ids={variant.pk: {image.pk for image in variant.images.all()} for variant in existing},
        taken=taken,
    )
    warnings += plan.warnings
    Variant.objects.filter(pk__in=plan.delete).delete()
    for variant, wanted_images in plan.save:
        variant.product = product
        variant.save()
        variant.images.set(wanted_images)
    return ["variants"] if plan.changed else []


@dataclass
class VariantsPlan:
    """What a record does to a product's variants: those to write (new or changed) with their photos, the ids of
    those to delete, whether anything changed, warnings, and the skus the product keeps."""

    save: list[tuple[Variant, list[ProductImage]]]
    delete: list[int]
    changed: bool
    warnings: list[str]
    kept: list[str]


def variants_plan(
    *,
    record: ProductRecord,
    images: dict[str, ProductImage],
    existing: list[Variant],
    image_ids: dict[int, set[int]],
    taken: dict[str, str],
) -> VariantsPlan:
    """Plan the product's variants after the record; no query. ``existing``: its variants now, ``image_ids``:
    their photos' ids by variant id, ``taken``: variant skus of the record that other products hold (their sku).
    New variants have no product set."""
    by_sku = {variant.sku: variant for variant in existing}
    save, keep, warnings = [], [], []
    for variant_record in record.variants:
        if variant_record.sku in taken:
            warnings.append(f"variant {variant_record.sku} skipped: sku already used by {taken[variant_record.sku]}")
            continue
        variant = by_sku.get(variant_record.sku) or Variant(sku=variant_record.sku)
        wanted_images = [images[source] for source in variant_record.images]
        same = (
            variant.pk is not None
            and variant.attributes == variant_record.attributes
            and variant.in_stock == variant_record.in_stock
            and variant.price == variant_record.price
            and image_ids.get(variant.pk, set()) == {image.pk for image in wanted_images}
        )
        if not same:
            variant.attributes = variant_record.attributes
            variant.in_stock = variant_record.in_stock
            variant.price = variant_record.price
            save.append((variant, wanted_images))
        keep.append(variant.sku)
    delete = [variant.pk for variant in existing if variant.sku not in keep]
    return VariantsPlan(save=save, delete=delete, changed=bool(save or delete), warnings=warnings, kept=keep)


def products_changed(*, product_ids: list[int]) -> None:
    """Announce a change of what products say (text, photos, reviews), inside the writing transaction. The apps
    built on the catalog listen (``catalog.signals``): search rebuilds the documents now and drops cached results
    and the spelling vocabulary on commit; embeddings marks the products stale (re-embedded after commit)."""
    signals.products_changed.send(sender=Product, product_ids=product_ids)


def products_deleted(*, product_ids: list[int]) -> None:
    """Announce, inside the deleting transaction, that these products are gone (search drops cached results
    naming them on commit)."""
    signals.products_deleted.send(sender=Product, product_ids=product_ids)


def products_rating_update(*, product_ids: list[int]) -> None:
    """Recount the review summary of these products: one query to read, one to write."""
    if not product_ids:
        return
    summaries = {
        row["product_id"]: (row["average"], row["count"])
        for row in Review.objects.filter(product_id__in=product_ids)
        .order_by()
        .values("product_id")
        .annotate(average=Avg("rating"), count=Count("id"))
    }
    ids = sorted(set(product_ids))
    to_decimal = Product._meta.get_field("rating_average").to_python  # rounded as a model save rounds it
    averages = [to_decimal(summaries.get(product_id, (None, 0))[0]) for product_id in ids]
    counts = [summaries.get(product_id, (None, 0))[1] for product_id in ids]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE catalog_product p SET rating_average = v.average, rating_count = v.count "
            "FROM unnest(%s::bigint[], %s::numeric[], %s::integer[]) AS v(id, average, count) WHERE p.id = v.id",
            [ids, averages, counts],
        )


def review_fingerprint(record: ReviewRecord) -> str:
    created = record.created_at.isoformat() if record.created_at else ""
    key = "\x1f".join([record.sku, record.author, record.title, record.body, created])
    return hashlib.sha256(key.encode()).hexdigest()


def review_upsert(*, record: ReviewRecord, product_id: int, follow_up: bool = True) -> str:
    """Store a review once (by content); a changed rating updates it. Returns "created", "updated" or
    "unchanged". With ``follow_up=False`` the caller runs ``reviews_changed`` itself, once for many reviews."""
    review, created = Review.objects.get_or_create(
        fingerprint=review_fingerprint(record),
        defaults={
            "product_id": product_id,
            "rating": record.rating,
            "title": record.title,
            "body": record.body,
            "author": record.author,
            "created_at": record.created_at,
        },
    )
    rating_changed = not created and review.rating != record.rating
    if rating_changed:
        review.rating = record.rating
        review.save(update_fields=["rating"])
    if follow_up and (created or rating_changed):
        reviews_changed(product_ids=[product_id])
    return "created" if created else "updated" if rating_changed else "unchanged"


def reviews_changed(*, product_ids: list[int]) -> None:
    """After reviews of these products changed: their rating summaries, and what follows any product change
    (review text is part of what search and embeddings read)."""
    with transaction.atomic():
        products_rating_update(product_ids=product_ids)
        products_changed(product_ids=product_ids)


def catalog_import(
    *, path: Path, progress: Progress | None = None, force: bool = False, bulk: bool = True, photo_tasks: bool = False
) -> ImportReport:
    """Import the catalog folder ``path`` (or a products.jsonl file and the folder it is in).

    Bad lines and photos are reported in the returned report with file and line, and skipped. Products whose
    line and photo files did not change since the last import are skipped unless ``force``. ``bulk`` (the default):
    a batch of lines at a time (``catalog.bulk``: the same checks, report and result, a few statements per batch),
    its photos read in parallel, in Celery tasks with ``photo_tasks``; ``bulk=False``: line by line, one
    transaction per product.
    """
    path = Path(path)
    products_file = path if path.is_file() else path / PRODUCTS_FILE
    if not products_file.is_file():
        raise FileNotFoundError(f"no {PRODUCTS_FILE} in {path}")
    base_dir = products_file.parent
    reviews_file = base_dir / REVIEWS_FILE
    if bulk:
        from .bulk import catalog_import_bulk

        return catalog_import_bulk(
            products_file=products_file,
            reviews_file=reviews_file if reviews_file.is_file() else None,
            progress=progress,
            force=force,
            photo_tasks=photo_tasks,
        )
    product_lines = list(read_lines(products_file))
    review_lines = list(read_lines(reviews_file)) if reviews_file.is_file() else []
    total = len(product_lines) + len(review_lines)
    report = ImportReport()
    photo_cache = PhotoCache(base_dir)
    category_cache: dict[str, Category] = {}
    seen: dict[str, str] = {}
    done = 0
    if progress:
        progress(0, total)

    for line in product_lines:
        _import_product_line(line, report, photo_cache, category_cache, seen, force=force)
        done += 1
        if progress:
            progress(done, total)

    sku_ids = dict(Product.objects.filter(sku__in=list(seen)).values_list("sku", "id"))
    reviewed: set[int] = set()
    for line in review_lines:
        _import_review_line(line, report, sku_ids, reviewed)
        done += 1
        if progress:
            progress(done, total)
    if reviewed:  # once per product, not once per review
        reviews_changed(product_ids=sorted(reviewed))
    return report


def _import_product_line(
    line: Line,
    report: ImportReport,
    photo_cache: PhotoCache,
    category_cache: dict[str, Category],
    seen: dict[str, str],
    *,
    force: bool,
) -> None:
    try:
        data = load_object(line)
        record = parse_product(data)
        if record.sku in seen:
            raise RecordError(f"sku {record.sku!r} already appeared at {seen[record.sku]}")
        seen[record.sku] = line.location
        result = product_upsert(
            record=record,
            photo_cache=photo_cache,
            source_hash="" if force else record_hash(data, base_dir=photo_cache.base_dir),
            category_cache=category_cache,
        )
    except RecordError as exc:
        report.skipped += 1
        report.issues.append(ImportIssue(line.location, str(exc)))
        return
    except DatabaseError as exc:
        category_cache.clear()  # rolled back with the product
        report.skipped += 1
        report.issues.append(ImportIssue(line.location, f"database refused the product: {exc}".strip()))
        logger.warning("import %s: %s", line.location, exc)
        return
    setattr(report, result.outcome, getattr(report, result.outcome) + 1)
    report.photos_attached += result.photos_attached
    report.photo_errors += len(result.photo_errors)
    report.issues += [ImportIssue(line.location, message) for message in result.warnings + result.photo_errors]


def _import_review_line(line: Line, report: ImportReport, sku_ids: dict[str, int], reviewed: set[int]) -> None:
    try:
        record = parse_review(load_object(line))
        product_id = sku_ids.get(record.sku)
        if product_id is None:
            product_id = Product.objects.filter(sku=record.sku).values_list("id", flat=True).first()
            if product_id is None:
                raise RecordError(f"unknown sku {record.sku!r}")
            sku_ids[record.sku] = product_id
        outcome = review_upsert(record=record, product_id=product_id, follow_up=False)
    except RecordError as exc:
        report.reviews_skipped += 1
        report.issues.append(ImportIssue(line.location, str(exc)))
        return
    if outcome != "unchanged":
        reviewed.add(product_id)
    if outcome == "created":
        report.reviews_created += 1
    else:
        report.reviews_unchanged += 1


# --- attribute setup ------------------------------------------------------------------------------------------


class AttributeSetupError(ValueError):
    """A setup that cannot be saved; the message says which attribute and why."""


def attribute_setup_save(*, settings: list[dict]) -> AttributeSetup:
    """Replace the shop's attribute setup with ``settings`` (each ``{"name", "label", "position", "facet",
    "filterable", "sortable"}``, all but the name optional); a name left out takes its default. Announces the change
    (``catalog.signals.attribute_setup_changed``): search refreshes the documents' facets when the facet attributes
    changed and drops its cached results. Returns the setup now in effect."""
    from .models import AttributeSetting
    from .selectors import (
        BUILTINS,
        DEFAULTS,
        OTHER_POSITION,
        attribute_setup_invalidate,
        attribute_setup_read,
        label_default,
    )

    rows: dict[str, AttributeSetting] = {}
    for item in settings:
        name = str(item.get("name", "")).strip()
        if not name or len(name) > ATTRIBUTE_NAME_MAX_LENGTH or "=" in name or not name.isprintable():
            raise AttributeSetupError(f"attribute name {name[:40]!r} must be 1-{ATTRIBUTE_NAME_MAX_LENGTH} printable "
                                      "characters without '='")  # fmt: skip
        if name in rows:
            raise AttributeSetupError(f"attribute {name!r} is listed twice")
        default = DEFAULTS.get(name)
        label = clean_text(str(item.get("label") or ""))
        if len(label) > 100:
            raise AttributeSetupError(f"the label of {name!r} is over 100 characters")
        try:
            order = int(item.get("position", default.position if default else OTHER_POSITION))
        except (TypeError, ValueError):
            raise AttributeSetupError(f"the position of {name!r} must be a whole number") from None
        if not 0 <= order <= 32767:
            raise AttributeSetupError(f"the position of {name!r} must be from 0 to 32767")
        rows[name] = AttributeSetting(
            name=name,
            label="" if label == label_default(name) else label,
            position=order,
            facet=bool(item.get("facet", default.facet if default else False)),
            filterable=True if name in BUILTINS else bool(item.get("filterable", True)),
            sortable=bool(item.get("sortable", default.sortable if default else False)),
        )
    with transaction.atomic():
        before = attribute_setup_read()
        AttributeSetting.objects.exclude(name__in=list(rows)).delete()
        existing = {row.name: row for row in AttributeSetting.objects.select_for_update().filter(name__in=list(rows))}
        now = timezone.now()
        for name, row in rows.items():
            row.updated_at = now
            if name in existing:
                row.pk = existing[name].pk
        AttributeSetting.objects.bulk_create([row for row in rows.values() if row.pk is None])
        AttributeSetting.objects.bulk_update(
            [row for row in rows.values() if row.pk is not None],
            ["label", "position", "facet", "filterable", "sortable", "updated_at"],
        )
        after = attribute_setup_read()
        if after != before:
            transaction.on_commit(attribute_setup_invalidate)  # before what the listeners do on commit
            signals.attribute_setup_changed.send(
                sender=AttributeSetting, facets_changed=set(after.attribute_facets) != set(before.attribute_facets)
            )
    return after
