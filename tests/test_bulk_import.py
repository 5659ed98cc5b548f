"""The bulk import (``catalog.bulk``): the same report and the same catalog as the line import, a few statements
per batch, nothing written for unchanged lines, changes announced once per batch, photos read by worker tasks.

(tests/test_import.py runs every import test on both paths as well.)"""

import json

import pytest
from django.db import connection
from django.dispatch import receiver
from django.test.utils import CaptureQueriesContext

from catalog import bulk, services, signals
from catalog.models import Category, Product, ProductCategory, ProductImage, Review, Variant
from search.models import SearchDocument

from .conftest import jpeg_bytes

pytestmark = pytest.mark.django_db


def catalog_state() -> dict:
    """Everything an import writes, without ids and times: two imports that agree on it made the same catalog.
    (Of the source hash only whether there is one: it hashes the photo files' times too.)"""
    return {
        "products": sorted(
            (*row[:-1], bool(row[-1]))
            for row in Product.objects.values_list(
                "sku", "name", "description", "description_html", "brand", "price", "currency", "in_stock",
                "attributes", "primary_category__path", "content_version", "embeddings_stale", "rating_average",
                "rating_count", "source_hash",
            )
        ),
        "categories": sorted(Category.objects.values_list("path", "name", "parent__path", "depth")),
        "links": sorted(ProductCategory.objects.values_list("product__sku", "category__path", "position")),
        "photos": sorted(ProductImage.objects.values_list("product__sku", "position", "source", "file", "content_hash",
                                                          "width", "height", "error")),
        "variants": sorted(
            (v.product.sku, v.sku, json.dumps(v.attributes, sort_keys=True), v.price, v.in_stock,
             sorted(i.source for i in v.images.all()))
            for v in Variant.objects.select_related("product").prefetch_related("images")
        ),
        "reviews": sorted(Review.objects.values_list("product__sku", "rating", "title", "body", "author")),
        "documents": sorted(
            (d.product.sku, str(d.document), d.facets, json.dumps(d.card, sort_keys=True))
            for d in SearchDocument.objects.select_related("product")
        ),
    }  # fmt: skip


def report_of(report: services.ImportReport) -> tuple:
    return (report.summary(), [(issue.location, issue.message) for issue in report.issues])


def catalog_wipe() -> None:
    Product.objects.all().delete()
    Category.objects.all().delete()


def write_steps(catalog_dir) -> list:
    """Three versions of a catalog with bad lines, photos, variants and reviews; each a function that writes it."""
    c = catalog_dir
    red, blue, green = (c.add_photo(f"{name}.jpg", jpeg_bytes(color=rgb)) for name, rgb in
                        [("red", (200, 0, 0)), ("blue", (0, 0, 200)), ("green", (0, 200, 0))])  # fmt: skip
    not_image = c.add_photo("notes.jpg", b"not a photo")

    def first():
        c.product_lines, c.review_lines = [], []
        c.add_product(sku="A", name="Alpine &amp; tent", price="120", brand="Luma",
                      categories=["Outdoor/Tents", "Sale"], attributes={"color": "Red"}, images=[red, blue],
                      variants=[{"sku": "A-S", "attributes": {"size": "S"}, "images": [red]},
                                {"sku": "A-M", "attributes": {"size": "M"}, "images": [blue], "price": "125"},
                                {"sku": "MOVING", "attributes": {"size": "L"}}])  # fmt: skip
        c.add_line('{"sku": "BAD", "name": ')
        c.add_product(sku="B", name="Bottle", price="9.5", categories=["Outdoor/Bottles"], images=[green])
        c.add_product(sku="C", name="Cap", price="-1")
        c.add_product(sku="D", name="Daypack", description="<p>Light &bull; roomy</p>", categories=["Outdoor/Bags"],
                      images=[not_image, "images/missing.jpg"])  # fmt: skip
        c.add_product(sku="A", name="A again")
        c.add_line("[1, 2]")
        c.add_product(sku="E", name="Espresso cup", brand="Bialetti", variants=[{"sku": "A-S"}, {"name": "no sku"}])
        c.add_product(sku="F", name="Flask", categories=["Outdoor/Bottles"], in_stock=False)
        c.add_review(sku="A", rating=5, title="Great", body="Dry all night", author="Ann")
        c.add_review(sku="A", rating=9, title="Too good", body="", author="Bob")
        c.add_review(sku="NOPE", rating=3, title="Who?", body="", author="Cy")
        c.add_review(sku="B", rating=4, title="Fine", body="", author="Dee")
        c.add_review(sku="B", rating=2, title="Fine", body="", author="Dee")  # the same review, rated again
        return c.write()

    def second():  # the same files again
        return c.path

    def third():
        c.product_lines, c.review_lines = [], []
        c.add_product(sku="F", name="Flask", categories=["Outdoor/Bottles"], in_stock=False)  # same content, new line
        small = [{"sku": "A-S", "attributes": {"size": "S"}, "images": [red]}]
        c.add_line(json.dumps({"sku": "A", "name": "Alpine tent", "price": "110", "variants": small}))
        c.add_line(json.dumps({"sku": "B", "name": "Bottle", "categories": ["Sale", "Outdoor/Bottles"]}))
        c.add_product(sku="G", name="Gaiters", variants=[{"sku": "MOVING", "attributes": {"size": "L"}}])
        c.add_line(json.dumps({"sku": "D", "name": "Daypack", "images": [blue]}))
        c.add_product(sku="H", name="Hat", variants=[{"sku": "A-M"}])  # still A's
        c.add_line(json.dumps({"sku": "E", "name": "Espresso cup", "brand": None, "categories": []}))
        c.add_review(sku="B", rating=5, title="Fine", body="", author="Dee")
        c.add_review(sku="G", rating=1, title="Leaks", body="", author="Eve")
        return c.write()

    return [first, second, third]


def run_steps(catalog_dir, *, bulk_import: bool, monkeypatch) -> list:
    monkeypatch.setattr(bulk, "BATCH_LINES", 3)  # every file spans several batches
    outcomes = []
    for step in write_steps(catalog_dir):
        report = services.catalog_import(path=step(), bulk=bulk_import)
        outcomes.append((report_of(report), catalog_state()))
    forced = services.catalog_import(path=catalog_dir.path, bulk=bulk_import, force=True)
    outcomes.append((report_of(forced), catalog_state()))
    return outcomes


def test_the_bulk_import_reports_and_writes_exactly_what_the_line_import_does(catalog_dir, monkeypatch):
    # given the same sequence of imports (bad lines, photos, variants moving between products, partial lines,
    # reviews; the same files again; a forced import) run line by line and in bulk
    by_line = run_steps(catalog_dir, bulk_import=False, monkeypatch=monkeypatch)
    catalog_wipe()
    in_bulk = run_steps(catalog_dir, bulk_import=True, monkeypatch=monkeypatch)

    # then every report (each bad line with its line number and reason, in order) and every catalog is the same
    for (line_report, line_state), (bulk_report, bulk_state) in zip(by_line, in_bulk, strict=True):
        assert bulk_report == line_report
        for key, rows in line_state.items():
            assert bulk_state[key] == rows, key
    first, second, third, forced = (report for report, _ in in_bulk)
    assert first[0].startswith("products: 5 created, 0 updated, 0 unchanged, 4 skipped; reviews: 2 created, 1 "
                               "unchanged, 2 skipped")  # fmt: skip
    issues = dict(first[1])
    assert issues["products.jsonl:2"].startswith("malformed JSON")
    assert "at least 0" in issues["products.jsonl:4"]
    assert issues["products.jsonl:6"] == "sku 'A' already appeared at products.jsonl:1"
    assert [message for location, message in first[1] if location == "products.jsonl:8"] == [
        "variant 2 skipped: missing required field 'sku'",
        "variant A-S skipped: sku already used by A",
    ]
    assert issues["reviews.jsonl:3"] == "unknown sku 'NOPE'"
    assert second[0].startswith("products: 0 created, 0 updated, 5 unchanged, 4 skipped")  # D's photos: read again
    assert third[0].startswith("products: 2 created, 4 updated, 1 unchanged, 0 skipped")
    assert ("products.jsonl:6", "variant A-M skipped: sku already used by A") not in third[1]  # A gave it up before
    assert forced[0].startswith("products: 0 created, 0 updated, 7 unchanged")
    state = in_bulk[2][1]
    assert ("G", "MOVING", '{"size": "L"}', None, True, []) in state["variants"]
    assert [v for v in state["variants"] if v[0] == "A"] == [
        ("A", "A-S", '{"size": "S"}', None, True, ["images/red.jpg"])
    ]


def test_an_unchanged_reimport_writes_nothing_and_announces_nothing(catalog_dir, monkeypatch):
    # given 25 products imported in batches of 10, their vectors fresh
    for n in range(25):
        catalog_dir.add_product(sku=f"P{n:02d}", name=f"Tent {n}", price=str(10 + n), categories=["Outdoor/Tents"],
                                attributes={"color": "Red"}, description=f"<b>Tent</b> number {n}")  # fmt: skip
    monkeypatch.setattr(bulk, "BATCH_LINES", 10)
    assert services.catalog_import(path=catalog_dir.write(), bulk=True).created == 25
    Product.objects.update(embeddings_stale=False)
    before = catalog_state()
    announced = []

    @receiver(signals.products_changed, weak=False)
    def spy(sender, product_ids, **kwargs):
        announced.append(product_ids)

    # when the same file is imported again
    try:
        with CaptureQueriesContext(connection) as queries:
            report = services.catalog_import(path=catalog_dir.path, bulk=True)
    finally:
        signals.products_changed.disconnect(spy)

    # then every line is unchanged, found by its stored hash in one query per batch: nothing written or announced,
    # no document rebuilt, no product marked stale
    assert (report.created, report.updated, report.unchanged) == (0, 0, 25)
    assert announced == []
    assert [query["sql"].split()[0] for query in queries.captured_queries] == ["SELECT"] * 3
    assert catalog_state() == before
    assert not Product.objects.filter(embeddings_stale=True).exists()


def test_a_batch_announces_only_its_changed_products_once(catalog_dir, django_capture_on_commit_callbacks):
    from search.cache import cache_key, cache_result, cached_result

    # given 12 products, fresh, and a cached search result showing an unchanged one and one showing a changed one
    for n in range(12):
        catalog_dir.add_product(sku=f"P{n:02d}", name=f"Tent {n}", price="10", categories=["Outdoor/Tents"])
    services.catalog_import(path=catalog_dir.write(), bulk=True)
    Product.objects.update(embeddings_stale=False)
    ids = dict(Product.objects.values_list("sku", "id"))
    kept_key, dropped_key = cache_key({"q": "kept"}, None), cache_key({"q": "dropped"}, None)
    cache_result(kept_key, {"results": []}, [ids["P00"]])
    cache_result(dropped_key, {"results": []}, [ids["P03"]])
    versions = dict(Product.objects.values_list("sku", "content_version"))

    # when 3 of them change what they show (name, price, categories), one only changes its line (same content)
    lines = [json.loads(line) for line in catalog_dir.product_lines]
    lines[3]["name"] = "Storm shelter"
    lines[5]["price"] = "12.00"
    lines[7]["categories"] = ["Outdoor/Shelters"]
    lines[9] = {"sku": "P09", "name": "Tent 9"}  # names less, so shows the same
    catalog_dir.product_lines = [json.dumps(line) for line in lines]
    announced = []

    @receiver(signals.products_changed, weak=False)
    def spy(sender, product_ids, **kwargs):
        announced.append(sorted(product_ids))

    try:
        with django_capture_on_commit_callbacks(execute=True), CaptureQueriesContext(connection) as queries:
            report = services.catalog_import(path=catalog_dir.write(), bulk=True)
    finally:
        signals.products_changed.disconnect(spy)

    # then the three are updated and announced in one signal: their documents rebuilt in one statement, marked
    # stale in one, the cached result showing one of them dropped; the others are untouched
    assert (report.updated, report.unchanged) == (3, 9)
    assert announced == [sorted([ids["P03"], ids["P05"], ids["P07"]])]
    sql = [query["sql"] for query in queries.captured_queries]
    assert sum("INSERT INTO search_searchdocument" in statement for statement in sql) == 1
    stale = set(Product.objects.filter(embeddings_stale=True).values_list("sku", flat=True))
    assert stale == {"P03", "P05", "P07"}
    after = dict(Product.objects.values_list("sku", "content_version"))
    assert {sku for sku in after if after[sku] != versions[sku]} == {"P03", "P05", "P07"}
    assert "storm" in str(SearchDocument.objects.get(product_id=ids["P03"]).document)
    assert cached_result(dropped_key) is None and cached_result(kept_key) is not None
    assert Product.objects.get(sku="P09").source_hash != ""  # the new line's hash is kept: unchanged next time
    assert len(sql) < 30  # a few statements for the batch, not a few per product


def test_a_batch_the_database_refuses_is_imported_line_by_line_and_only_the_refused_product_reported(catalog_dir):
    # given a database that refuses one product (a trigger standing in for whatever a database may refuse)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.sku = 'NO' THEN "
            "RAISE EXCEPTION 'refused by a test trigger'; END IF; RETURN NEW; END $$; "
            "CREATE TRIGGER refuse_one BEFORE INSERT OR UPDATE ON catalog_product FOR EACH ROW "
            "EXECUTE FUNCTION refuse_one()"
        )
    for sku in ["K1", "K2", "NO", "K3"]:
        catalog_dir.add_product(sku=sku, name=f"Product {sku}", categories=["Outdoor/Tents"])
    catalog_dir.write()

    # when the file is imported in bulk, and then line by line (after wiping)
    in_bulk = services.catalog_import(path=catalog_dir.path, bulk=True)
    bulk_state = catalog_state()
    catalog_wipe()
    by_line = services.catalog_import(path=catalog_dir.path, bulk=False)

    # then only the refused product is skipped, reported as the line import reports it
    assert report_of(in_bulk) == report_of(by_line)
    assert (in_bulk.created, in_bulk.skipped) == (3, 1)
    assert in_bulk.issues[0].location == "products.jsonl:3"
    assert in_bulk.issues[0].message.startswith("database refused the product: refused by a test trigger")
    assert bulk_state == catalog_state()


def test_photo_tasks_fall_back_to_this_process_when_they_cannot_be_queued(catalog_dir, monkeypatch):
    def no_broker(chunks, base_dir):
        raise ConnectionError("no broker")

    monkeypatch.setattr(bulk, "_photo_tasks_send", no_broker)
    catalog_dir.add_product(sku="P", images=[catalog_dir.add_photo("p.jpg")])
    report = services.catalog_import(path=catalog_dir.write(), bulk=True, photo_tasks=True)
    assert (report.created, report.photos_attached) == (1, 1)
    assert ProductImage.objects.get().usable


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_photos_are_read_decoded_and_stored_by_worker_tasks(live_worker, catalog_dir, monkeypatch):
    # given a catalog with 20 photos (and one that is not a photo), and this process unable to read any photo
    photos = [
        catalog_dir.add_photo(f"p{n}.jpg", jpeg_bytes(size=(20 + n, 10), color=(10 * n, 0, 0))) for n in range(20)
    ]
    broken = catalog_dir.add_photo("broken.jpg", b"not a photo")
    for n in range(10):
        catalog_dir.add_product(sku=f"P{n}", images=photos[2 * n : 2 * n + 2] + ([broken] if n == 9 else []))
    catalog_dir.write()

    def not_here(**kwargs):
        raise AssertionError("a photo was read in the importing process")

    monkeypatch.setattr(services, "photo_store", not_here)

    # when the catalog is imported with photo tasks
    report = services.catalog_import(path=catalog_dir.path, bulk=True, photo_tasks=True)

    # then the worker read, checked, decoded and stored them: the rows name the stored files, the bad one reported
    assert (report.created, report.photos_attached, report.photo_errors) == (10, 20, 1)
    assert [(issue.location, issue.message) for issue in report.issues] == [
        ("products.jsonl:10", "photo images/broken.jpg: not an image (or an image type Pillow cannot read)")
    ]
    assert ProductImage.objects.filter(error="").count() == 20
    widths = sorted(ProductImage.objects.exclude(width=None).values_list("width", flat=True))
    assert widths == list(range(20, 40))
    for image in ProductImage.objects.filter(error=""):
        assert (live_worker.media / image.file.name).is_file()


def test_the_import_command_imports_in_bulk_unless_told_line_by_line(catalog_dir, capsys):
    from django.core.management import call_command

    catalog_dir.add_product(sku="OK", name="Fine", categories=["Outdoor"])
    catalog_dir.add_line("not json")
    catalog_dir.add_product(sku="OK", name="Twice")
    catalog_dir.write()
    printed = []
    for options in (["--line-by-line"], []):
        call_command("import_catalog", str(catalog_dir.path), "--no-progress", *options)
        printed.append(capsys.readouterr())
        catalog_wipe()
    assert printed[0] == printed[1]
    assert "products: 1 created, 0 updated, 0 unchanged, 2 skipped" in printed[1].out
    assert printed[1].err.splitlines() == [
        "products.jsonl:2: malformed JSON: Expecting value at column 1",
        "products.jsonl:3: sku 'OK' already appeared at products.jsonl:1",
    ]
