"""Bulk import: ``catalog_import`` of a catalog a batch of lines at a time, for catalogs of any size.

The same checks, the same report (each bad line with its line number and reason, in line order, and the same
summary) and the same catalog as importing line by line (``catalog.services.product_upsert`` per line), in a
few statements per batch instead of a few per product:

1. every line of the batch is parsed and checked (``catalog.records``);
2. what is stored for the batch's skus is read in one query: a line whose source hash is the stored one (and whose
   product has no photo error left to retry) is unchanged and goes no further: nothing is written or announced;
3. the photos the other lines name are read, checked, decoded and stored in parallel, in threads of this process
   or in Celery tasks (``catalog.store_photos``) that any worker sharing the catalog folder and the photo storage
   takes (``photo_tasks``);
4. the batch is written in one transaction: categories, products, category links, photo rows, variants and their
   photos, each as a few statements for the whole batch; then the products whose content changed are announced
   once (``products_changed``): search rebuilds their documents in one statement and embeddings marks them stale
   in one, cached results and the spelling vocabulary are dropped once, on commit.

A batch the database refuses is rolled back and imported again line by line, so that only the product it refuses
is skipped and reported, as the line import reports it. A merge follows the line import's rules exactly: the
plans of what a record does to a product's photos and variants are the line import's own (``images_plan``,
``variants_plan``).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.db import DatabaseError, connections, router, transaction
from django.utils import timezone

from . import photos
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
from .services import (
    ImportIssue,
    ImportReport,
    PhotoCache,
    Progress,
    images_plan,
    product_fields_apply,
    product_upsert,
    product_values,
    products_changed,
    record_hash,
    review_fingerprint,
    review_upsert,
    reviews_changed,
    variants_plan,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Lines parsed, compared and written together (one transaction, one document rebuild, one stale-flag update). A
# batch of 1,000 text-only products is about 1 MB of SQL parameters and holds its rows' locks for well under a
# second; larger batches gain little, and a batch the database refuses is redone line by line.
BATCH_LINES = 1_000
# Photos read by one Celery task of ``photo_tasks``: enough to make a task worth its round trip, few enough that a
# batch's photos spread over many workers.
PHOTOS_PER_TASK = 8
# Threads that read, decode and store photos in this process (Pillow decodes and the fetches wait without holding
# the GIL): about one per core, and at least a few for photo URLs, which mostly wait on the network.
PHOTO_THREADS = max(4, os.cpu_count() or 1)
# How long a batch waits for its photo tasks beyond the time their fetches may take; after that the photos still
# missing are read here and the rest of the import reads its photos here too (no worker is taking the tasks).
PHOTO_TASK_QUEUE_SECONDS = 120


@dataclass
class _Outcome:
    """What became of a product line (as ``UpsertResult`` tells it for the line import)."""

    outcome: str  # "created", "updated" or "unchanged"
    product_id: int | None = None
    warnings: list[str] = field(default_factory=list)
    photo_errors: list[str] = field(default_factory=list)
    photos_attached: int = 0


@dataclass
class _Item:
    """A product line of the batch that parsed: its record and what the import does with it."""

    line: Line
    record: ProductRecord
    line_hash: str  # of the line and its photo files ("" when forced)
    source_hash: str  # what the product keeps: the line's hash, or "" while one of its photos cannot be read
    given: frozenset[str] = frozenset()
    stored: dict[str, photos.StoredPhoto | photos.PhotoError] = field(default_factory=dict)
    result: _Outcome | None = None
    issue: ImportIssue | None = None  # the database refused it (line by line after the batch was refused)


@dataclass
class _Import:
    """What one bulk import carries from batch to batch."""

    base_dir: Path
    force: bool
    photo_cache: PhotoCache
    photo_tasks: bool
    report: ImportReport
    categories: dict[str, Category] = field(default_factory=dict)
    seen: dict[str, int] = field(default_factory=dict)  # sku -> the line number that first named it
    sku_ids: dict[str, int] = field(default_factory=dict)  # for the reviews
    reviewed: set[int] = field(default_factory=set)


def _db() -> str:
    """The database the import reads and writes: the one products are written to (never a replica)."""
    return router.db_for_write(Product)


def count_lines(path: Path) -> int:
    """How many lines ``read_lines`` yields (for the progress bar), without keeping them."""
    with path.open("rb") as handle:
        return sum(1 for raw in handle if raw.strip())


def _batches(path: Path, size: int) -> Iterator[list[Line]]:
    """The lines of a JSONL file (``read_lines``), ``size`` at a time."""
    batch = []
    for line in read_lines(path):
        batch.append(line)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def catalog_import_bulk(
    *,
    products_file: Path,
    reviews_file: Path | None,
    progress: Progress | None = None,
    force: bool = False,
    photo_tasks: bool = False,
    batch_lines: int | None = None,
) -> ImportReport:
    """Import a products file (and its reviews file) batch by batch (``batch_lines`` lines, ``BATCH_LINES`` unless
    given); see the module's docstring. The files are read as they go, never whole into memory."""
    batch_lines = batch_lines or BATCH_LINES
    base_dir = products_file.parent
    run = _Import(
        base_dir=base_dir,
        force=force,
        photo_cache=PhotoCache(base_dir),
        photo_tasks=photo_tasks,
        report=ImportReport(),
    )
    total = 0
    if progress:  # the files are read once more to count their lines, not kept
        total = count_lines(products_file) + (count_lines(reviews_file) if reviews_file else 0)
        progress(0, total)
    done = 0
    for lines, entries in _parsed_ahead(
        _batches(products_file, batch_lines), lambda lines: _products_parse(lines, run)
    ):
        _product_batch(entries, run)
        done += len(lines)
        if progress:
            progress(done, total)
    if reviews_file:
        for lines, records in _parsed_ahead(_batches(reviews_file, batch_lines), _reviews_parse):
            _review_batch(lines, records, run)
            done += len(lines)
            if progress:
                progress(done, total)
        reviewed = sorted(run.reviewed)
        for start in range(0, len(reviewed), batch_lines):  # once per product, not once per review
            reviews_changed(product_ids=reviewed[start : start + batch_lines])
    return run.report


def _parsed_ahead(batches: Iterator[list[Line]], parse: Callable[[list[Line]], T]) -> Iterator[tuple[list[Line], T]]:
    """Each batch of lines with what ``parse`` made of it, the next batch read and parsed in a thread meanwhile:
    parsing (Python) goes on while this thread waits for the database to write the batch before."""

    def step() -> tuple[list[Line], T] | None:
        lines = next(batches, None)
        return None if lines is None else (lines, parse(lines))

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-parse") as pool:
        ahead = pool.submit(step)
        while (parsed := ahead.result()) is not None:
            ahead = pool.submit(step)
            yield parsed


# --- products ------------------------------------------------------------------------------------------------


def _products_parse(lines: list[Line], run: _Import) -> list[_Item | ImportIssue]:
    """Parse and check a batch of product lines: an item per good line, the issue of each bad one, in order. Runs
    in the parsing thread, batch after batch (it alone keeps ``run.seen``)."""
    entries: list[_Item | ImportIssue] = []
    for line in lines:
        try:
            data = load_object(line)
            record = parse_product(data)
            if record.sku in run.seen:
                raise RecordError(f"sku {record.sku!r} already appeared at {line.path.name}:{run.seen[record.sku]}")
            run.seen[record.sku] = line.number
        except RecordError as exc:
            entries.append(ImportIssue(line.location, str(exc)))
            continue
        line_hash = "" if run.force else record_hash(data, base_dir=run.base_dir)
        entries.append(_Item(line=line, record=record, line_hash=line_hash, source_hash=line_hash))
    return entries


def _product_batch(entries: list[_Item | ImportIssue], run: _Import) -> None:
    items = [entry for entry in entries if isinstance(entry, _Item)]
    pending = _unchanged_skip(items)
    if pending:
        _photos_read(pending, run)
        _write(pending, run)
    _report(entries, run.report)


def _unchanged_skip(items: list[_Item]) -> list[_Item]:
    """Settle the items whose line is unchanged since the last import (the stored source hash, no photo error to
    retry) as ``unchanged``; the others get the fields they set (all of them for a new product). Returns those."""
    if not items:
        return []
    with connections[_db()].cursor() as cursor:
        cursor.execute(
            "SELECT p.sku, p.source_hash, EXISTS (SELECT 1 FROM catalog_productimage i "
            "WHERE i.product_id = p.id AND i.error <> '') FROM catalog_product p WHERE p.sku = ANY(%s)",
            [[item.record.sku for item in items]],
        )
        stored = {sku: (source_hash, photo_errors) for sku, source_hash, photo_errors in cursor.fetchall()}
    pending = []
    for item in items:
        state = stored.get(item.record.sku)
        if state is not None and item.source_hash and state == (item.source_hash, False):
            item.result = _Outcome(outcome="unchanged")
            continue
        item.given = frozenset(PRODUCT_FIELDS) if state is None else item.record.present
        pending.append(item)
    return pending


# --- photos --------------------------------------------------------------------------------------------------


def _photos_read(items: list[_Item], run: _Import) -> None:
    """Read every photo the items name that this import has not read yet, in parallel; then give each item its
    photos (a line with a photo that cannot be read keeps no source hash: the next import reads it again)."""
    wanted: list[list[str]] = []
    for item in items:
        sources = list(item.record.images)
        for variant in item.record.variants if "variants" in item.given else []:
            sources += [source for source in variant.images if source not in sources]
        wanted.append(sources)
    missing = run.photo_cache.missing([source for sources in wanted for source in sources])
    if missing:
        if run.photo_tasks:
            missing = _photos_by_tasks(missing, run)
        _photos_by_threads(missing, run.photo_cache)
    for item, sources in zip(items, wanted, strict=True):
        item.stored = {source: run.photo_cache.get(source) for source in sources}
        if any(isinstance(photo, photos.PhotoError) for photo in item.stored.values()):
            item.source_hash = ""


def _photos_by_threads(sources: list[str], cache: PhotoCache) -> None:
    from .services import photo_store

    if len(sources) <= 1:
        for source in sources:
            cache.put(source, photo_store(source=source, base_dir=cache.base_dir))
        return
    with ThreadPoolExecutor(max_workers=min(PHOTO_THREADS, len(sources)), thread_name_prefix="photo") as pool:
        for source, result in zip(
            sources, pool.map(lambda source: photo_store(source=source, base_dir=cache.base_dir), sources), strict=True
        ):
            cache.put(source, result)


def _photos_by_tasks(sources: list[str], run: _Import) -> list[str]:
    """Read ``sources`` in Celery tasks, ``PHOTOS_PER_TASK`` a task, and wait for them; returns the sources no task
    answered for in time (read here by the caller). When none answers at all, later batches read here."""
    chunks = [sources[start : start + PHOTOS_PER_TASK] for start in range(0, len(sources), PHOTOS_PER_TASK)]
    try:
        results = _photo_tasks_send(chunks, run.base_dir)
    except Exception:  # noqa: BLE001 - no broker: this import reads its photos itself
        logger.warning("could not queue photo tasks; reading the photos in this process", exc_info=True)
        run.photo_tasks = False
        return sources
    # The wait is for progress: while the tasks keep answering, however many there are, it goes on.
    window = (
        PHOTO_TASK_QUEUE_SECONDS + settings.PHOTO_FETCH_TIMEOUT * photos.PHOTO_FETCH_DEADLINE_FACTOR * PHOTOS_PER_TASK
    )
    answered_at = time.monotonic()
    left: list[str] = []
    answered = 0
    for chunk, result in zip(chunks, results.results, strict=True):
        try:
            timeout = max(0.1, answered_at + window - time.monotonic())
            outcomes = result.get(timeout=timeout, disable_sync_subtasks=False)
        except Exception:  # noqa: BLE001 - a lost or failed task: its photos are read here
            logger.warning("photo task %s did not answer; reading its %d photo(s) here", result.id, len(chunk))
            result.revoke()
            left += chunk
            continue
        result.forget()
        answered += 1
        answered_at = time.monotonic()
        for outcome in outcomes:
            run.photo_cache.put(outcome["source"], photo_result_from_json(outcome))
    if not answered:
        logger.warning("no worker took the photo tasks; the rest of this import reads its photos in this process")
        run.photo_tasks = False
    return left


def _photo_tasks_send(chunks: list[list[str]], base_dir: Path):
    """Queue one ``catalog.store_photos`` task per chunk of sources; their results, in order."""
    from celery import group

    from .tasks import store_photos_task

    return group(store_photos_task.s(chunk, str(base_dir)) for chunk in chunks).apply_async()


def photo_result_to_json(source: str, result: photos.StoredPhoto | photos.PhotoError) -> dict:
    if isinstance(result, photos.PhotoError):
        return {"source": source, "error": str(result)}
    return {"source": source, "name": result.name, "content_hash": result.content_hash, "width": result.width,
            "height": result.height}  # fmt: skip


def photo_result_from_json(outcome: dict) -> photos.StoredPhoto | photos.PhotoError:
    if "error" in outcome:
        return photos.PhotoError(outcome["error"])
    return photos.StoredPhoto(name=outcome["name"], content_hash=outcome["content_hash"], width=outcome["width"],
                              height=outcome["height"])  # fmt: skip


# --- writing a batch -----------------------------------------------------------------------------------------


def _write(items: list[_Item], run: _Import) -> None:
    """Write the batch in one transaction; when the database refuses it, line by line (``product_upsert``)."""
    db = _db()
    outermost = not connections[db].in_atomic_block
    try:
        with transaction.atomic(using=db):
            if outermost:  # (not inside a caller's transaction, whose commit is the caller's)
                with connections[db].cursor() as cursor:
                    # The batch's commit does not wait for its WAL to reach the disk: a crash may lose the last
                    # batches committed (the database stays consistent), which running the import again writes.
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
            results = _batch_write(items, run)
    except DatabaseError as exc:
        logger.warning("a batch of %d products was refused (%s); importing it line by line", len(items), exc)
        run.categories.clear()  # rolled back with the batch
        for item in items:
            _line_write(item, run)
        return
    for item, result in zip(items, results, strict=True):
        item.result = result


def _line_write(item: _Item, run: _Import) -> None:
    """One product as the line import writes it (its photos are already in the import's cache)."""
    try:
        result = product_upsert(
            record=item.record,
            photo_cache=run.photo_cache,
            source_hash=item.line_hash,
            category_cache=run.categories,
        )
        item.result = _Outcome(
            outcome=result.outcome,
            product_id=result.product.pk,
            warnings=result.warnings,
            photo_errors=result.photo_errors,
            photos_attached=result.photos_attached,
        )
    except DatabaseError as exc:
        run.categories.clear()  # rolled back with the product
        item.issue = ImportIssue(item.line.location, f"database refused the product: {exc}".strip())
        logger.warning("import %s: %s", item.line.location, exc)


def _batch_write(items: list[_Item], run: _Import) -> list[_Outcome]:
    db = _db()
    # Locks taken in one order: two imports of overlapping batches wait for each other, never deadlock.
    existing = {
        product.sku: product
        for product in Product.objects.using(db).raw(
            f"SELECT * FROM {Product._meta.db_table} WHERE sku = ANY(%s) ORDER BY id FOR UPDATE",
            [[item.record.sku for item in items]],
        )
    }
    _categories_ensure(
        [path for item in items if "categories" in item.given for path in item.record.categories], run.categories
    )
    # Each product's fields (a new one gets the record's values, without a model instance: those are costly).
    ids: list[int] = []
    created: list[bool] = []
    changed: list[list[str]] = []
    inserts: list[tuple[int, dict[str, Any]]] = []
    updates: dict[int, tuple[Product, str]] = {}  # the products that exist, with their source hash until now
    for n, item in enumerate(items):
        product = existing.get(item.record.sku)
        created.append(product is None)
        if product is None:
            inserts.append((n, product_values(item.record, item.given, run.categories)))
            ids.append(0)
            changed.append([])
        else:
            updates[n] = (product, product.source_hash)
            changed.append(product_fields_apply(product, item.record, item.given, run.categories))
            product.source_hash = item.source_hash
            ids.append(product.pk)
    new_ids = _products_insert([(items[n], values) for n, values in inserts], db)
    for (n, _), product_id in zip(inserts, new_ids, strict=True):
        ids[n] = product_id

    # Their categories, photos and variants.
    links_changed = _links_write(items, ids, created, run)
    images, image_changes, warnings = _images_write(items, ids, created)
    variant_changes = _variants_write(items, ids, created, images, warnings)
    for n in range(len(items)):
        changed[n] += (["categories"] if n in links_changed else []) + (["images"] if n in image_changes else [])
        changed[n] += ["variants"] if n in variant_changes else []

    now = timezone.now()
    to_update = []
    for n, (product, stored_hash) in updates.items():
        if changed[n]:
            product.updated_at = now
        if changed[n] or product.source_hash != stored_hash:
            to_update.append(product)
    _products_update(to_update, db)

    outcomes = []
    for n, item in enumerate(items):
        outcome = _Outcome(
            outcome="created" if created[n] else "updated" if changed[n] else "unchanged",
            product_id=ids[n],
            warnings=item.record.warnings + warnings[n],
        )
        for source, photo in item.stored.items():
            if isinstance(photo, photos.PhotoError):
                outcome.photo_errors.append(f"photo {source}: {photo}")
            else:
                outcome.photos_attached += 1
        outcomes.append(outcome)
    announced = [outcome.product_id for outcome in outcomes if outcome.outcome != "unchanged"]
    if announced:
        products_changed(product_ids=announced)
    return outcomes


# The columns of a product that an import writes (the model's others are the embeddings' and reviews' own).
_PRODUCT_COLUMNS = ("name", "description", "description_html", "brand", "price", "currency", "in_stock", "attributes",
                    "primary_category", "source_hash", "updated_at")  # fmt: skip


def _arrays_sql(model, names: list[str], columns_values: list[list], db: str) -> tuple[list[str], str, str, list]:
    """For a statement that reads rows from arrays (``unnest``): the columns of the fields ``names`` of ``model``,
    the ``unnest(...) AS v(...)`` clause, the select list (JSON cast back from the text it is sent as) and the
    parameters (``columns_values``: one list of values per field)."""
    conn = connections[db]
    columns, parameters, selects, arrays = [], [], [], []
    for name, values in zip(names, columns_values, strict=True):
        model_field = model._meta.get_field(name)
        cast = f"{model_field.db_type(conn)}[]"
        select = f"v.{model_field.column}"
        if model_field.get_internal_type() == "JSONField":
            values, cast, select = [json.dumps(value) for value in values], "text[]", f"{select}::jsonb"
        columns.append(model_field.column)
        parameters.append(f"%s::{cast}")
        selects.append(select)
        arrays.append(values)
    return columns, f"unnest({', '.join(parameters)}) AS v({', '.join(columns)})", ", ".join(selects), arrays


def _products_insert(rows: list[tuple[_Item, dict[str, Any]]], db: str) -> list[int]:
    """Insert new products (an item and its ``product_values``; the model's defaults for the fields it does not
    set) in one statement; their ids, in order."""
    if not rows:
        return []
    now = timezone.now()
    names, columns_values = [], []
    for model_field in Product._meta.concrete_fields:
        if model_field.primary_key:
            continue
        name = model_field.name
        if name == "sku":
            values = [item.record.sku for item, _ in rows]
        elif name == "source_hash":
            values = [item.source_hash for item, _ in rows]
        elif name in ("created_at", "updated_at"):
            values = [now] * len(rows)
        elif name == "primary_category":
            values = [category.id if (category := fields.get(name)) else None for _, fields in rows]
        else:
            values = [fields[name] if name in fields else model_field.get_default() for _, fields in rows]
        names.append(name)
        columns_values.append(values)
    columns, source, selects, arrays = _arrays_sql(Product, names, columns_values, db)
    with connections[db].cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Product._meta.db_table} ({', '.join(columns)}) SELECT {selects} FROM {source} "
            "RETURNING id, sku",
            arrays,
        )
        by_sku = {sku: product_id for product_id, sku in cursor.fetchall()}
    return [by_sku[item.record.sku] for item, _ in rows]


def _products_update(products: list[Product], db: str) -> None:
    """Write the import's columns of these products in one statement (an UPDATE from arrays)."""
    if not products:
        return
    names = ["id", *_PRODUCT_COLUMNS]
    attnames = [Product._meta.get_field(name).attname for name in names]
    columns, source, selects, arrays = _arrays_sql(
        Product, names, [[getattr(product, attname) for product in products] for attname in attnames], db
    )
    assignments = ", ".join(
        f"{column} = {select}" for column, select in zip(columns[1:], selects.split(", ")[1:], strict=True)
    )
    with connections[db].cursor() as cursor:
        cursor.execute(f"UPDATE {Product._meta.db_table} p SET {assignments} FROM {source} WHERE p.id = v.id", arrays)


def _categories_ensure(paths: list[str], cache: dict[str, Category]) -> None:
    """Put every category of ``paths`` and their ancestors in ``cache``, creating those missing: a few queries
    per batch that names new categories, none otherwise."""
    missing: set[str] = set()
    for path in paths:
        if path not in cache:
            parts = path.split("/")
            missing |= {"/".join(parts[:depth]) for depth in range(1, len(parts) + 1)} - cache.keys()
    if not missing:
        return
    db = _db()
    cache.update({category.path: category for category in Category.objects.using(db).filter(path__in=missing)})
    by_depth: dict[int, list[str]] = {}
    for path in missing - cache.keys():
        by_depth.setdefault(path.count("/"), []).append(path)
    for depth in sorted(by_depth):  # parents first; one created meanwhile by another import is taken as it is
        rows = []
        for path in sorted(by_depth[depth]):
            parent, _, name = path.rpartition("/")
            rows.append(Category(path=path, name=name, parent=cache[parent] if parent else None, depth=depth))
        Category.objects.using(db).bulk_create(rows, ignore_conflicts=True)
        cache.update(
            {category.path: category for category in Category.objects.using(db).filter(path__in=by_depth[depth])}
        )


def _links_write(items: list[_Item], ids: list[int], created: list[bool], run: _Import) -> set[int]:
    """Make the category links of the items that name categories match their records, in order (as
    ``_set_categories`` does per product); returns the indexes of the items whose links changed."""
    db = _db()
    indexes = [n for n, item in enumerate(items) if "categories" in item.given]
    existing: dict[int, dict[int, tuple[int, int]]] = {}  # product id -> category id -> (link id, position)
    old_ids = [ids[n] for n in indexes if not created[n]]
    if old_ids:
        for link_id, product_id, category_id, position in (
            ProductCategory.objects.using(db)
            .filter(product_id__in=old_ids)
            .values_list("id", "product_id", "category_id", "position")
        ):
            existing.setdefault(product_id, {})[category_id] = (link_id, position)
    removed: list[int] = []
    added: tuple[list[int], list[int], list[int]] = ([], [], [])  # product ids, category ids, positions
    moved: tuple[list[int], list[int]] = ([], [])  # link ids, positions
    changed = set()
    for n in indexes:
        wanted = {run.categories[path].id: position for position, path in enumerate(items[n].record.categories)}
        links = existing.get(ids[n], {})
        gone = [link_id for category_id, (link_id, _) in links.items() if category_id not in wanted]
        removed += gone
        for category_id, position in wanted.items():
            if category_id not in links:
                for values, value in zip(added, (ids[n], category_id, position), strict=True):
                    values.append(value)
                changed.add(n)
            elif links[category_id][1] != position:
                for values, value in zip(moved, (links[category_id][0], position), strict=True):
                    values.append(value)
                changed.add(n)
        if gone:
            changed.add(n)
    table = ProductCategory._meta.db_table
    with connections[db].cursor() as cursor:
        if removed:
            cursor.execute(f"DELETE FROM {table} WHERE id = ANY(%s)", [removed])
        if added[0]:
            columns, source, selects, arrays = _arrays_sql(ProductCategory, ["product", "category", "position"],
                                                           list(added), db)  # fmt: skip
            cursor.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {selects} FROM {source}", arrays)
        if moved[0]:
            _, source, _, arrays = _arrays_sql(ProductCategory, ["id", "position"], list(moved), db)
            cursor.execute(f"UPDATE {table} l SET position = v.position FROM {source} WHERE l.id = v.id", arrays)
    return changed


def _images_write(
    items: list[_Item], ids: list[int], created: list[bool]
) -> tuple[dict[int, dict[str, ProductImage]], set[int], list[list[str]]]:
    """Plan and write the photo rows of the items that name photos or variants (``images_plan``). Returns each
    such item's rows by source, the indexes of the items whose photos changed, and every item's warnings."""
    db = _db()
    warnings: list[list[str]] = [[] for _ in items]
    indexes = [n for n, item in enumerate(items) if "images" in item.given or "variants" in item.given]
    # A new product with no photo to list has nothing to plan.
    indexes = [n for n in indexes if not created[n] or items[n].stored or items[n].record.images]
    old_ids = [ids[n] for n in indexes if not created[n]]
    stored_rows: dict[int, list[ProductImage]] = {}
    kept_by_variants: dict[int, set[str]] = {}
    if old_ids:
        for image in ProductImage.objects.using(db).filter(product_id__in=old_ids).order_by("product_id", "position"):
            stored_rows.setdefault(image.product_id, []).append(image)
        keeping = [ids[n] for n in indexes if not created[n] and "variants" not in items[n].given]
        for product_id, source in (
            ProductImage.objects.using(db)
            .filter(product_id__in=keeping, variants__isnull=False)
            .values_list("product_id", "source")
            .distinct()
        ):
            kept_by_variants.setdefault(product_id, set()).add(source)
    result: dict[int, dict[str, ProductImage]] = {}
    changed, delete, save = set(), [], []
    for n in indexes:
        plan = images_plan(
            record=items[n].record,
            given=items[n].given,
            stored=items[n].stored,
            rows=stored_rows.get(ids[n], []),
            kept_by_variants=kept_by_variants.get(ids[n], set()),
        )
        for image in plan.save:
            image.product_id = ids[n]
        result[n] = plan.rows
        warnings[n] += plan.warnings
        delete += plan.delete
        save += plan.save
        if plan.changed:
            changed.add(n)
    if delete:
        ProductImage.objects.using(db).filter(pk__in=delete).delete()
    ProductImage.objects.using(db).bulk_create([image for image in save if image.pk is None])
    ProductImage.objects.using(db).bulk_update(
        [image for image in save if image.pk is not None and image.pk not in delete],
        ["position", "file", "content_hash", "width", "height", "error"],
    )
    return result, changed, warnings


def _variants_write(
    items: list[_Item],
    ids: list[int],
    created: list[bool],
    images: dict[int, dict[str, ProductImage]],
    warnings: list[list[str]],
) -> set[int]:
    """Plan and write the variants of the items that name them (``variants_plan``), in line order: a variant sku
    another product holds is reported, not taken, also when that product comes earlier in the same batch (one it
    gave up earlier in the batch may be taken). Returns the indexes of the items whose variants changed."""
    db = _db()
    indexes = [n for n, item in enumerate(items) if "variants" in item.given]
    indexes = [n for n in indexes if not created[n] or items[n].record.variants]
    if not indexes:
        return set()
    owners = dict(
        Variant.objects.using(db)
        .filter(sku__in=[variant.sku for n in indexes for variant in items[n].record.variants])
        .values_list("sku", "product__sku")
    )
    old_ids = [ids[n] for n in indexes if not created[n]]
    existing: dict[int, list[Variant]] = {}
    image_ids: dict[int, set[int]] = {}
    if old_ids:
        for variant in Variant.objects.using(db).filter(product_id__in=old_ids).order_by("pk"):
            existing.setdefault(variant.product_id, []).append(variant)
        for variant_id, image_id in (
            Variant.images.through.objects.using(db)
            .filter(variant__product_id__in=old_ids)
            .values_list("variant_id", "productimage_id")
        ):
            image_ids.setdefault(variant_id, set()).add(image_id)
    changed, delete, save = set(), [], []
    for n in indexes:
        sku = items[n].record.sku
        mine = existing.get(ids[n], [])
        taken = {
            variant.sku: owners[variant.sku]
            for variant in items[n].record.variants
            if owners.get(variant.sku, sku) != sku
        }
        plan = variants_plan(
            record=items[n].record, images=images.get(n, {}), existing=mine, image_ids=image_ids, taken=taken
        )
        for variant in mine:
            if variant.pk in plan.delete:
                owners.pop(variant.sku, None)
        for variant_sku in plan.kept:
            owners[variant_sku] = sku
        for variant, _ in plan.save:
            variant.product_id = ids[n]
        warnings[n] += plan.warnings
        delete += plan.delete
        save += plan.save
        if plan.changed:
            changed.add(n)
    if delete:
        Variant.objects.using(db).filter(pk__in=delete).delete()
    Variant.objects.using(db).bulk_create([variant for variant, _ in save if variant.pk is None])
    Variant.objects.using(db).bulk_update(
        [variant for variant, _ in save if variant.pk is not None], ["attributes", "in_stock", "price"]
    )
    through = Variant.images.through
    through.objects.using(db).filter(variant_id__in=[variant.pk for variant, _ in save]).delete()
    through.objects.using(db).bulk_create(
        [
            through(variant_id=variant.pk, productimage_id=image_id)
            for variant, wanted in save
            for image_id in dict.fromkeys(image.pk for image in wanted)
        ]  # fmt: skip
    )
    return changed


def _report(entries: list[_Item | ImportIssue], report: ImportReport) -> None:
    """Count and report the batch's lines in line order, as the line import does."""
    for entry in entries:
        if isinstance(entry, ImportIssue):
            report.skipped += 1
            report.issues.append(entry)
            continue
        if entry.issue is not None:
            report.skipped += 1
            report.issues.append(entry.issue)
            continue
        result = entry.result
        setattr(report, result.outcome, getattr(report, result.outcome) + 1)
        report.photos_attached += result.photos_attached
        report.photo_errors += len(result.photo_errors)
        messages = result.warnings + result.photo_errors
        report.issues += [ImportIssue(entry.line.location, message) for message in messages]


# --- reviews -------------------------------------------------------------------------------------------------


def _reviews_parse(lines: list[Line]) -> list[ReviewRecord | RecordError]:
    records: list[ReviewRecord | RecordError] = []
    for line in lines:
        try:
            records.append(parse_review(load_object(line)))
        except RecordError as exc:
            records.append(exc)
    return records


def _review_batch(lines: list[Line], records: list[ReviewRecord | RecordError], run: _Import) -> None:
    """Store the batch's reviews as ``review_upsert`` does line by line (once by content; a changed rating
    updates it), with one query to find them and one or two to write them."""
    db = _db()
    unknown = {record.sku for record in records if isinstance(record, ReviewRecord)} - run.sku_ids.keys()
    if unknown:
        run.sku_ids.update(Product.objects.using(db).filter(sku__in=unknown).values_list("sku", "id"))
    for n, record in enumerate(records):
        if isinstance(record, ReviewRecord) and record.sku not in run.sku_ids:
            records[n] = RecordError(f"unknown sku {record.sku!r}")
    try:
        with transaction.atomic(using=db):
            outcomes = _reviews_write(records, run)
    except DatabaseError as exc:  # another import stored some of them meanwhile: line by line
        logger.warning("a batch of %d reviews was refused (%s); importing it line by line", len(lines), exc)
        outcomes = [
            record if isinstance(record, RecordError)
            else review_upsert(record=record, product_id=run.sku_ids[record.sku], follow_up=False)
            for record in records
        ]  # fmt: skip
    report = run.report
    for line, record, outcome in zip(lines, records, outcomes, strict=True):
        if isinstance(outcome, RecordError):
            report.reviews_skipped += 1
            report.issues.append(ImportIssue(line.location, str(outcome)))
            continue
        if outcome != "unchanged":
            run.reviewed.add(run.sku_ids[record.sku])
        if outcome == "created":
            report.reviews_created += 1
        else:
            report.reviews_unchanged += 1


def _reviews_write(records: list[ReviewRecord | RecordError], run: _Import) -> list[str | RecordError]:
    """Write the batch's reviews; each line's outcome ("created", "updated", "unchanged") as ``review_upsert``
    would have had it, line after line: a review repeated in the batch is the same review."""
    db = _db()
    fingerprints = [review_fingerprint(record) if isinstance(record, ReviewRecord) else "" for record in records]
    state = {
        fingerprint: [review_id, rating]
        for fingerprint, review_id, rating in Review.objects.using(db)
        .filter(fingerprint__in=[fingerprint for fingerprint in fingerprints if fingerprint])
        .values_list("fingerprint", "id", "rating")
    }
    new: dict[str, Review] = {}
    rated: set[str] = set()
    outcomes: list[str | RecordError] = []
    for record, fingerprint in zip(records, fingerprints, strict=True):
        if isinstance(record, RecordError):
            outcomes.append(record)
        elif fingerprint not in state:
            new[fingerprint] = Review(
                product_id=run.sku_ids[record.sku], rating=record.rating, title=record.title, body=record.body,
                author=record.author, created_at=record.created_at, fingerprint=fingerprint,
            )  # fmt: skip
            state[fingerprint] = [None, record.rating]
            outcomes.append("created")
        elif state[fingerprint][1] != record.rating:
            state[fingerprint][1] = record.rating
            if fingerprint in new:
                new[fingerprint].rating = record.rating
            else:
                rated.add(fingerprint)
            outcomes.append("updated")
        else:
            outcomes.append("unchanged")
    Review.objects.using(db).bulk_create(list(new.values()))
    Review.objects.using(db).bulk_update(
        [Review(pk=state[fingerprint][0], rating=state[fingerprint][1]) for fingerprint in rated], ["rating"]
    )
    return outcomes
