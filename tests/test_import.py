"""Catalog import: the luma-dev round trip, idempotence, and every kind of bad input."""

import http.server
import json
import socket
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from PIL import Image

from catalog import bulk, services
from catalog.models import Category, Product, ProductImage, Review, Variant

from .conftest import DEMO_CATALOG, jpeg_bytes

pytestmark = pytest.mark.django_db

_MODE = {"bulk": False}


@pytest.fixture(autouse=True, params=["lines", "bulk"])
def import_mode(request, monkeypatch):
    """Every test runs on both paths: line by line, and in bulk with batches of 3 lines (so that a file spans
    several batches, and a sku repeated or a variant moved crosses a batch's edge)."""
    _MODE["bulk"] = request.param == "bulk"
    monkeypatch.setattr(bulk, "BATCH_LINES", 3)
    return request.param


def catalog_import(**options):
    return services.catalog_import(bulk=_MODE["bulk"], **options)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_luma_round_trip_counts_products_variants_photos_and_reviews(media_root):
    # given the demo copy of luma-dev, whose expected counts we derive from its files
    products = read_jsonl(DEMO_CATALOG / "products.jsonl")
    expected_variants = sum(len(p.get("variants", [])) for p in products)
    expected_photo_rows = sum(
        len(dict.fromkeys(p["images"] + [i for v in p.get("variants", []) for i in v["images"]])) for p in products
    )
    distinct_photos = {
        i for p in products for i in p["images"] + [i for v in p.get("variants", []) for i in v["images"]]
    }

    # when it is imported
    report = catalog_import(path=DEMO_CATALOG)

    # then everything arrives
    assert (report.created, report.skipped, report.issues) == (116, 0, [])
    assert Product.objects.count() == len(products) == 116
    assert Variant.objects.count() == expected_variants
    assert ProductImage.objects.exclude(file="").count() == expected_photo_rows
    assert Review.objects.count() == 185
    # and every distinct photo is stored exactly once, by content hash
    stored = [p for p in media_root.rglob("*") if p.is_file()]
    assert len(stored) == len(distinct_photos) == 290
    assert ProductImage.objects.values("content_hash").distinct().count() == 290

    hoodie = Product.objects.get(sku="MH01")
    assert hoodie.primary_category.path == "Men/Tops/Hoodies & Sweatshirts"
    assert set(hoodie.categories.values_list("path", flat=True)) == {
        "Men/Tops/Hoodies & Sweatshirts",
        "Collections/Eco Friendly",
    }
    assert Category.objects.get(path="Men/Tops").parent.path == "Men"
    assert hoodie.attributes["color"] == ["Black", "Gray", "Orange"]
    assert hoodie.images.first().source == "images/mh01-gray_main.jpg"
    black_xs = hoodie.variants.get(sku="MH01-XS-Black")
    assert [i.source for i in black_xs.images.all()] == ["images/mh01-black_main.jpg"]
    # HTML stripped, entities unescaped, the source kept
    assert "<p>" not in hoodie.description and "\u2022 Two-tone gray heather hoodie." in hoodie.description
    assert "&bull;" in hoodie.description_html


def test_reimport_is_idempotent_and_updates_changed_fields(tmp_path):
    # given the catalog imported once
    catalog_import(path=DEMO_CATALOG)
    before = {
        "products": list(Product.objects.values_list("id", "sku", "price").order_by("id")),
        "images": list(ProductImage.objects.values_list("id", "file").order_by("id")),
        "variants": Variant.objects.count(),
        "reviews": list(Review.objects.values_list("id", flat=True).order_by("id")),
    }

    # when the same files are imported again
    report = catalog_import(path=DEMO_CATALOG)

    # then nothing changes
    assert (report.created, report.updated, report.unchanged, report.reviews_created) == (0, 0, 116, 0)
    assert list(Product.objects.values_list("id", "sku", "price").order_by("id")) == before["products"]
    assert list(ProductImage.objects.values_list("id", "file").order_by("id")) == before["images"]
    assert Variant.objects.count() == before["variants"]
    assert list(Review.objects.values_list("id", flat=True).order_by("id")) == before["reviews"]

    # when one product changes its price and loses a variant
    lines = (DEMO_CATALOG / "products.jsonl").read_text().splitlines()
    record = json.loads(lines[0])
    record["price"] = "61.50"
    dropped = record["variants"].pop()["sku"]
    changed = tmp_path / "changed"
    changed.mkdir()
    (changed / "products.jsonl").write_text("\n".join([json.dumps(record), *lines[1:]]) + "\n")
    (changed / "images").symlink_to(DEMO_CATALOG / "images")
    report = catalog_import(path=changed)

    # then exactly that product is updated in place
    assert (report.created, report.updated, report.unchanged) == (0, 1, 115)
    product = Product.objects.get(sku=record["sku"])
    assert product.price == Decimal("61.50")
    assert (product.id, record["sku"]) in [(i, s) for i, s, _ in before["products"]]
    assert not Variant.objects.filter(sku=dropped).exists()
    assert Variant.objects.count() == before["variants"] - 1


class _SlowHandler(http.server.BaseHTTPRequestHandler):
    photo = jpeg_bytes()

    def do_GET(self):  # noqa: N802 - http.server's naming
        if self.path == "/slow.jpg":
            threading.Event().wait(3)
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(self.photo)))
        self.end_headers()
        self.wfile.write(self.photo)

    def log_message(self, *args):
        pass


@pytest.fixture
def photo_server(settings):
    settings.PHOTO_FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]  # a shop hosting its photos on a private address
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SlowHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_every_bad_input_is_reported_with_its_location_and_skipped(catalog_dir, settings, photo_server):
    settings.PHOTO_FETCH_TIMEOUT = 0.5
    settings.PHOTO_MAX_PIXELS = 40_000_000
    good_photo = catalog_dir.add_photo("good.jpg")
    not_image = catalog_dir.add_photo("notes.jpg", b"this is a text file, not a photo")
    truncated = catalog_dir.add_photo("truncated.jpg", jpeg_bytes(size=(300, 200))[:400])
    bomb = catalog_dir.add_photo("bomb.png", _png_of_megapixels(200))
    c = catalog_dir
    lines = {
        "good": c.add_product(sku="OK1", name="Good jacket", price="10.00", images=[good_photo]),
        "malformed": c.add_line('{"sku": "BAD1", "name": "broken'),
        "missing": c.add_product(sku="BAD2", name=None, price="3"),
        "negative": c.add_product(sku="BAD3", name="Negative", price="-5"),
        "not_image": c.add_product(sku="P1", name="Photo is text", images=[not_image]),
        "truncated": c.add_product(sku="P2", name="Photo is truncated", images=[truncated]),
        "bomb": c.add_product(sku="P3", name="Photo is a bomb", images=[bomb]),
        "timeout": c.add_product(sku="P4", name="Slow photo", images=[f"{photo_server}/slow.jpg"]),
        "url_ok": c.add_product(sku="P5", name="Fetched photo", images=[f"{photo_server}/fine.jpg"]),
        "missing_photo": c.add_product(sku="P6", name="Missing photo", images=["images/nope.jpg"]),
        "escape": c.add_product(sku="P7", name="Sneaky photo", images=["../../../etc/passwd"]),
        "not_object": c.add_line("[1, 2, 3]"),
        "duplicate": c.add_product(sku="OK1", name="Same sku again"),
    }
    reviews = {
        "good": c.add_review(sku="OK1", rating=5, title="Great", body="Warm", author="Ann"),
        "rating7": c.add_review(sku="OK1", rating=7, title="Too good", body="", author="Bob"),
        "unknown": c.add_review(sku="NOPE", rating=3, title="Who?", body="", author="Cy"),
    }
    c.write()

    report = catalog_import(path=catalog_dir.path)

    issues = {issue.location: issue.message for issue in report.issues}
    assert issues[f"products.jsonl:{lines['malformed']}"].startswith("malformed JSON")
    assert issues[f"products.jsonl:{lines['missing']}"] == "missing required field 'name'"
    assert "at least 0" in issues[f"products.jsonl:{lines['negative']}"]
    assert "not an image" in issues[f"products.jsonl:{lines['not_image']}"]
    assert "corrupt or truncated" in issues[f"products.jsonl:{lines['truncated']}"]
    assert "decompression bomb" in issues[f"products.jsonl:{lines['bomb']}"]
    assert "timed out" in issues[f"products.jsonl:{lines['timeout']}"]
    assert "not found" in issues[f"products.jsonl:{lines['missing_photo']}"]
    assert "outside the catalog folder" in issues[f"products.jsonl:{lines['escape']}"]
    assert "expected a JSON object" in issues[f"products.jsonl:{lines['not_object']}"]
    assert "already appeared at products.jsonl:1" in issues[f"products.jsonl:{lines['duplicate']}"]
    assert "from 1 to 5" in issues[f"reviews.jsonl:{reviews['rating7']}"]
    assert "unknown sku 'NOPE'" in issues[f"reviews.jsonl:{reviews['unknown']}"]
    assert f"products.jsonl:{lines['url_ok']}" not in issues

    # products with bad photos are kept (without the photo, the error recorded on the photo row)
    assert set(Product.objects.values_list("sku", flat=True)) == {"OK1", "P1", "P2", "P3", "P4", "P5", "P6", "P7"}
    assert Product.objects.get(sku="OK1").name == "Good jacket"
    assert ProductImage.objects.get(product__sku="P1").error.startswith("not an image")
    assert not ProductImage.objects.get(product__sku="P3").file
    assert ProductImage.objects.get(product__sku="P5").usable
    assert list(Review.objects.values_list("author", flat=True)) == ["Ann"]
    assert (report.created, report.skipped, report.reviews_created, report.reviews_skipped) == (8, 5, 1, 2)


def _png_of_megapixels(megapixels: int) -> bytes:
    """A small file that declares a huge picture (a decompression bomb): 1-bit PNG, compresses to ~30 KB."""
    import io

    width = 20_000
    buffer = io.BytesIO()
    Image.new("1", (width, megapixels * 1_000_000 // width)).save(buffer, "PNG")
    return buffer.getvalue()


def test_bad_reimport_loses_nothing_already_imported(catalog_dir):
    # given a product imported with its photo
    photo = catalog_dir.add_photo("a.jpg")
    catalog_dir.add_product(sku="KEEP", name="Kept", price="20", images=[photo])
    catalog_import(path=catalog_dir.write())
    image_id = ProductImage.objects.get().id

    # when a later file has a broken line for it and a negative price
    catalog_dir.product_lines = ['{"sku": "KEEP", "name": ', json.dumps({"sku": "KEEP", "name": "X", "price": -1})]
    report = catalog_import(path=catalog_dir.write())

    # then the product is untouched
    assert report.skipped == 2
    product = Product.objects.get(sku="KEEP")
    assert (product.name, product.price) == ("Kept", Decimal("20.00"))
    assert ProductImage.objects.get().id == image_id


def test_a_reimport_with_only_a_name_and_a_corrupt_photo_keeps_everything_good(catalog_dir):
    # given a full product: price, description, categories, 4 photos, 15 variants
    photos = [catalog_dir.add_photo(f"full-{n}.jpg", jpeg_bytes(color=(40 * n, 10, 10))) for n in range(4)]
    variants = [{"sku": f"FULL-{n}", "attributes": {"size": str(n)}, "images": [photos[n % 4]], "price": "12"}
                for n in range(15)]  # fmt: skip
    catalog_dir.add_product(sku="FULL", name="Full hoodie", price="55", description="<p>Warm</p>",
                            categories=["Men/Tops"], images=photos, variants=variants)  # fmt: skip
    catalog_import(path=catalog_dir.write())
    before = Product.objects.get(sku="FULL")

    # when a later line names the product with only its name and a photo that is not an image
    corrupt = catalog_dir.add_photo("corrupt.jpg", b"not a jpeg at all")
    catalog_dir.product_lines = [json.dumps({"sku": "FULL", "name": "Full hoodie", "images": [corrupt]})]
    report = catalog_import(path=catalog_dir.write())

    # then nothing good is lost: the fields it left out are kept, and so are the 4 photos it no longer lists
    product = Product.objects.get(sku="FULL")
    assert (product.price, product.description, product.primary_category.path) == (Decimal("55.00"), "Warm",
                                                                                     "Men/Tops")  # fmt: skip
    assert product.variants.count() == 15
    usable = [image.source for image in product.images.order_by("position") if image.usable]
    assert usable == photos
    # and the unreadable photo is reported, the product counted unchanged (what shoppers see did not change)
    assert (report.updated, report.unchanged, report.photo_errors) == (0, 1, 1)
    assert any("kept 4 earlier photo(s)" in issue.message for issue in report.issues)
    assert product.content_version == before.content_version

    # when the photo is fixed, the record's photo list is applied (the variants it did not name keep theirs)
    catalog_dir.add_photo("corrupt.jpg", jpeg_bytes(color=(1, 200, 1)))
    report = catalog_import(path=catalog_dir.write())
    assert report.updated == 1
    product = Product.objects.get(sku="FULL")
    assert [image.source for image in product.images.all() if image.usable] == [corrupt, *photos]  # the variants'


def test_a_listed_photo_that_stops_reading_keeps_its_earlier_copy(catalog_dir):
    photo = catalog_dir.add_photo("p.jpg")
    catalog_dir.add_product(sku="P", images=[photo])
    catalog_import(path=catalog_dir.write())
    stored = ProductImage.objects.get().file.name

    (catalog_dir.path / photo).write_bytes(b"truncated")  # the same path, now broken
    report = catalog_import(path=catalog_dir.path)

    image = ProductImage.objects.get()
    assert image.usable and image.file.name == stored
    assert report.photo_errors == 1 and any("kept the copy read earlier" in i.message for i in report.issues)
    # and the next import of the same line reads the photo again (not skipped as unchanged; a URL has no mtime)
    assert Product.objects.get().source_hash == ""
    assert catalog_import(path=catalog_dir.path).photo_errors == 1


def test_a_record_replaces_the_fields_it_names_and_keeps_the_others(catalog_dir):
    photo = catalog_dir.add_photo("p.jpg")
    catalog_dir.add_product(sku="R", name="Rain jacket", price="80", brand="Luma", description="Dry",
                            categories=["Men/Jackets"], attributes={"color": "Blue"}, images=[photo],
                            variants=[{"sku": "R-S", "attributes": {"size": "S"}}])  # fmt: skip
    catalog_import(path=catalog_dir.write())

    # a price feed: only sku, name and price
    catalog_dir.product_lines = [json.dumps({"sku": "R", "name": "Rain jacket", "price": "70"})]
    assert catalog_import(path=catalog_dir.write()).updated == 1
    product = Product.objects.get(sku="R")
    assert (product.price, product.brand, product.description) == (Decimal("70.00"), "Luma", "Dry")
    assert product.attributes == {"color": "Blue"} and product.images.count() == 1
    assert list(product.variants.values_list("sku", flat=True)) == ["R-S"]

    # a field named empty or null is cleared; named lists are authoritative
    catalog_dir.product_lines = [json.dumps({"sku": "R", "name": "Rain jacket", "brand": None, "variants": [],
                                             "categories": []})]  # fmt: skip
    catalog_import(path=catalog_dir.write())
    product = Product.objects.get(sku="R")
    assert (product.brand, product.primary_category, product.variants.count()) == ("", None, 0)
    assert product.categories.count() == 0 and product.images.count() == 1


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"attributes": {"color": "x" * 1001}}, "at most 1000 allowed"),
        ({"attributes": {"c" * 101: "x"}}, "at most 100 allowed"),
        ({"attributes": {"color": ["x"] * 101}}, "at most 100 allowed"),
        ({"attributes": {f"a{n}": "x" for n in range(201)}}, "at most 200 allowed"),
        ({"categories": ["Men/" + "x" * 201]}, "over 200 characters"),
        ({"categories": ["x" * 513]}, "at most 512 allowed"),
        ({"images": ["https://example.com/" + "x" * 2048]}, "at most 2048 allowed"),
        ({"brand": "b" * 121}, "at most 120 allowed"),
        ({"variants": [{"sku": f"V{n}"} for n in range(1001)]}, "at most 1000 allowed"),
    ],
)
def test_every_stored_text_has_a_limit(catalog_dir, fields, message):
    catalog_dir.add_product(sku="BIG", **fields)
    report = catalog_import(path=catalog_dir.write())
    assert report.skipped == 1 and message in report.issues[0].message
    assert not Product.objects.filter(sku="BIG").exists()


def test_same_photo_for_two_products_is_stored_once(catalog_dir, media_root):
    first = catalog_dir.add_photo("one.jpg")
    second = catalog_dir.add_photo("copy.jpg", (catalog_dir.path / first).read_bytes())
    catalog_dir.add_product(sku="A", images=[first])
    catalog_dir.add_product(sku="B", images=[second, first])
    catalog_import(path=catalog_dir.write())

    assert ProductImage.objects.count() == 3
    assert ProductImage.objects.values("file").distinct().count() == 1
    assert len([p for p in media_root.rglob("*") if p.is_file()]) == 1


def test_exif_orientation_is_applied(catalog_dir, media_root):
    # given a 40x20 photo whose EXIF says "rotate 90 degrees" (orientation 6)
    exif = Image.Exif()
    exif[0x0112] = 6
    photo = catalog_dir.add_photo("rotated.jpg", jpeg_bytes(size=(40, 20), exif=exif))
    catalog_dir.add_product(sku="R", images=[photo])

    catalog_import(path=catalog_dir.write())

    image = ProductImage.objects.get()
    assert (image.width, image.height) == (20, 40)
    with Image.open(media_root / image.file.name) as stored:
        assert stored.size == (20, 40)
        assert stored.getexif().get(0x0112, 1) == 1


def test_import_command_prints_summary_and_fails_only_when_nothing_usable(catalog_dir, capsys):
    catalog_dir.add_line("not json")
    catalog_dir.write()
    with pytest.raises(CommandError, match="nothing usable"):
        call_command("import_catalog", str(catalog_dir.path), "--no-progress")
    assert "products.jsonl:1: malformed JSON" in capsys.readouterr().err

    catalog_dir.add_product(sku="FINE", name="Fine")
    catalog_dir.write()
    call_command("import_catalog", str(catalog_dir.path), "--no-progress")
    out = capsys.readouterr()
    assert "products: 1 created, 0 updated, 0 unchanged, 1 skipped" in out.out
    assert "products.jsonl:1: malformed JSON" in out.err


def test_import_command_refuses_a_folder_without_products(tmp_path):
    with pytest.raises(CommandError, match="no products.jsonl"):
        call_command("import_catalog", str(tmp_path), "--no-progress")


def test_photo_url_over_the_size_limit_is_refused(catalog_dir, settings, photo_server):
    settings.PHOTO_MAX_BYTES = 100
    catalog_dir.add_product(sku="BIG", images=[f"{photo_server}/fine.jpg"])
    report = catalog_import(path=catalog_dir.write())
    assert "more than the 100 allowed" in report.issues[0].message
    assert report.created == 1


def test_unreachable_photo_url_is_reported(catalog_dir, settings):
    settings.PHOTO_FETCH_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    catalog_dir.add_product(sku="GONE", images=[f"http://127.0.0.1:{port}/x.jpg"])
    report = catalog_import(path=catalog_dir.write())
    assert "cannot fetch photo" in report.issues[0].message


def test_a_photo_replaced_under_the_same_path_is_picked_up_and_force_rereads_all(catalog_dir):
    photo = catalog_dir.add_photo("p.jpg", jpeg_bytes(size=(30, 20)))
    catalog_dir.add_product(sku="PH", images=[photo])
    catalog_import(path=catalog_dir.write())
    assert catalog_import(path=catalog_dir.path).unchanged == 1

    # when the file is replaced by another photo with the same name
    catalog_dir.add_photo("p.jpg", jpeg_bytes(size=(60, 40), color=(0, 0, 255)))
    report = catalog_import(path=catalog_dir.path)

    # then the product is updated with the new photo
    assert report.updated == 1
    assert (ProductImage.objects.get().width, ProductImage.objects.get().height) == (60, 40)
    # and --force re-reads products even when nothing changed (their photos read again), writing nothing
    forced = catalog_import(path=catalog_dir.path, force=True)
    assert (forced.photos_attached, forced.updated, forced.unchanged) == (1, 0, 1)


def test_orphan_photo_files_are_purged_and_used_ones_kept(catalog_dir, media_root):
    from catalog.tasks import purge_orphan_photos

    catalog_dir.add_product(sku="KEPT", images=[catalog_dir.add_photo("kept.jpg")])
    catalog_import(path=catalog_dir.write())
    orphan = media_root / "photos" / "ab" / "ab-orphan.jpg"
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"left behind by an update")

    assert purge_orphan_photos() == 1

    assert not orphan.exists()
    assert (media_root / ProductImage.objects.get().file.name).exists()


def test_photo_urls_on_private_addresses_are_refused_and_redirects_rechecked(catalog_dir, settings):
    from catalog.photos import PhotoError, read_source

    for url in ("http://127.0.0.1:9/x.jpg", "http://169.254.169.254/latest/meta-data", "http://10.1.2.3/p.jpg",
                "http://[::1]/p.jpg", "http://localhost/p.jpg"):  # fmt: skip
        with pytest.raises(PhotoError, match="non-public address"):
            read_source(url, base_dir=catalog_dir.path)

    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.PHOTO_FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]  # the first hop is allowed, the redirect is not
    try:
        with pytest.raises(PhotoError, match="169.254.169.254"):
            read_source(f"http://127.0.0.1:{server.server_address[1]}/p.jpg", base_dir=catalog_dir.path)
    finally:
        server.shutdown()
