"""Writes to the catalog: import a catalog folder, create or update one product, add a review.

``product_upsert`` is the one way a product gets written, whether it comes from ``import_catalog``, a Celery
task or (later) the write API. Each product is written in its own transaction, so an import that stops half way
keeps every product it finished, and running it again completes it without duplicates.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import DatabaseError, transaction
from django.db.models import Avg, Count
from django.utils import timezone

from . import photos, signals
from .models import Category, Product, ProductCategory, ProductImage, Review, Variant
from .records import (
    PRODUCT_FIELDS,
    Line,
    ProductRecord,
    RecordError,
    ReviewRecord,
    load_object,
    parse_product,
    parse_review,
    read_lines,
)

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


class PhotoCache:
    """Each photo source of one import is read and checked once, however many products and variants use it."""

    def __init__(self, base_dir: Path):
        self.base_dir = base_dir
        self._results: dict[str, photos.StoredPhoto | photos.PhotoError] = {}

    def get(self, source: str) -> photos.StoredPhoto | photos.PhotoError:
        if source not in self._results:
            try:
                self._results[source] = photos.store(photos.read_source(source, base_dir=self.base_dir))
            except photos.PhotoError as exc:
                self._results[source] = exc
        return self._results[source]


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
        fields_changed = _set_fields(product, record, given, category_cache)
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


def _set_fields(
    product: Product, record: ProductRecord, given: frozenset[str], category_cache: dict[str, Category] | None
) -> list[str]:
    """Copy the record's ``given`` fields onto ``product`` (unsaved); the names of the model fields that changed."""
    values = {}
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
    changed = []
    for name, value in values.items():
        if getattr(product, name) != value:
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
    """Make the product's photo rows follow the record, keeping the rows (and ids) of known sources.

    Returns the rows by source, ``["images"]`` if anything changed, and warnings. A listed photo that cannot be
    read keeps the copy stored earlier; while any listed photo cannot be read, photos the record no longer lists
    are kept after the listed ones (they go on the import that reads every listed photo)."""
    rows = {image.source: image for image in ProductImage.objects.filter(product=product).order_by("position")}
    # What shoppers and the encoders see is the usable photos in order: an unreadable one is only recorded.
    seen_before = [(image.source, image.file.name) for image in rows.values() if image.usable]
    # A record that names variants but not photos keeps the product's photos, and adds its variants' new ones.
    listed = list(record.images) if "images" in given else list(rows)
    listed += [source for source in stored if source not in listed]
    failed = [source for source in listed if isinstance(stored.get(source), photos.PhotoError)]
    # Photos the kept variants show stay as long as those variants do.
    kept_by_variants = (
        set()
        if "variants" in given
        else set(ProductImage.objects.filter(product=product, variants__isnull=False).values_list("source", flat=True))
    )
    unlisted = [source for source in rows if source not in listed]
    keep = [source for source in unlisted if failed or source in kept_by_variants]
    warnings = []
    if failed and any(rows[source].usable for source in keep):
        warnings.append(
            f"kept {len(keep)} earlier photo(s) the record no longer lists, because {len(failed)} listed photo(s) "
            f"could not be read"
        )
    ProductImage.objects.filter(pk__in=[rows[source].pk for source in unlisted if source not in keep]).delete()
    result = {}
    for position, source in enumerate(listed + keep):
        image = rows.get(source) or ProductImage(product=product, source=source)
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
            image.save()
        result[source] = image
    seen_after = [(image.source, image.file.name) for image in result.values() if image.usable]
    return result, ["images"] if seen_before != seen_after else [], warnings


def _set_variants(
    product: Product, record: ProductRecord, images: dict[str, ProductImage], warnings: list[str]
) -> list[str]:
    """Make the product's variants match the record's; ``["variants"]`` if anything changed."""
    # Variant skus are unique across the catalog: one claimed by another product is reported, not stolen.
    taken = dict(
        Variant.objects.filter(sku__in=[v.sku for v in record.variants])
        .exclude(product=product)
        .values_list("sku", "product__sku")
    )
    keep = []
    changed = False
    existing = {variant.sku: variant for variant in Variant.objects.filter(product=product).prefetch_related("images")}
    for variant_record in record.variants:
        if variant_record.sku in taken:
            warnings.append(f"variant {variant_record.sku} skipped: sku already used by {taken[variant_record.sku]}")
            continue
        variant = existing.get(variant_record.sku) or Variant(product=product, sku=variant_record.sku)
        wanted_images = [images[source] for source in variant_record.images]
        same = (
            variant.pk is not None
            and variant.attributes == variant_record.attributes
            and variant.in_stock == variant_record.in_stock
            and variant.price == variant_record.price
            and {image.pk for image in variant.images.all()} == {image.pk for image in wanted_images}
        )
        if not same:
            variant.attributes = variant_record.attributes
            variant.in_stock = variant_record.in_stock
            variant.price = variant_record.price
            variant.save()
            variant.images.set(wanted_images)
            changed = True
        keep.append(variant.sku)
    removed, _ = Variant.objects.filter(product=product).exclude(sku__in=keep).delete()
    return ["variants"] if changed or removed else []


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
    for product_id in product_ids:
        summary = Review.objects.filter(product_id=product_id).aggregate(average=Avg("rating"), count=Count("id"))
        Product.objects.filter(pk=product_id).update(rating_average=summary["average"], rating_count=summary["count"])


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


def catalog_import(*, path: Path, progress: Progress | None = None, force: bool = False) -> ImportReport:
    """Import the catalog folder ``path`` (or a products.jsonl file and the folder it is in).

    Bad lines and photos are reported in the returned report with file and line, and skipped. Products whose
    line and photo files did not change since the last import are skipped unless ``force``.
    """
    path = Path(path)
    products_file = path if path.is_file() else path / PRODUCTS_FILE
    if not products_file.is_file():
        raise FileNotFoundError(f"no {PRODUCTS_FILE} in {path}")
    base_dir = products_file.parent
    reviews_file = base_dir / REVIEWS_FILE
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
