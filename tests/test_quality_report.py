"""Catalog quality report (quality/): a small catalog with one planted error of each kind, judged with the test
settings' tiny encoders (hashing text, pixel-stats colour histograms): each error tops its kind's list, clean
products are not listed; the export command and the admin page."""

import csv
import io
import json

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import F
from django.test import Client
from django.utils.html import escape
from PIL import Image, ImageDraw

from catalog.models import Product, ProductImage
from catalog.services import catalog_import
from quality import checks
from quality.models import Dismissal, Finding, QualityReport
from quality.selectors import catalog_vectors, duplicate_candidates
from quality.services import catalog_findings_compute, quality_report_build

from .conftest import COLOURS, KINDS, build_generation, write_small_catalog

pytestmark = pytest.mark.django_db

# What is planted (sku -> the error), on the 4 kinds x 4 colours catalog of conftest.
SWAPPED = ("JAC-BLU", "images/BOT-RED-1.jpg")  # a red bottle's photo among the blue jacket's photos
RECOLOURED = ("HOO-GRE", "Yellow")  # green photos, colour attribute Yellow
MOVED = ("TEN-RED", "Outdoor/Bottles")  # a tent filed under bottles
DUPLICATE = ("JAC-RED-2", "JAC-RED")  # the red jacket listed again


# What a kind looks like to the pixel-stats encoder (a colour histogram): a band of its own colour on the product.
BANDS = {"Jacket": (20, 20, 20), "Hoodie": (250, 250, 250), "Tent": (130, 130, 130), "Bottle": (20, 220, 220)}


def photo_bytes(rgb: tuple[int, int, int], band: tuple[int, int, int], shade: int) -> bytes:
    image = Image.new("RGB", (48, 64), tuple(max(0, c - shade) for c in rgb))
    ImageDraw.Draw(image).rectangle((0, 40, 47, 63), fill=band)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def write_planted_catalog(catalog_dir, *, plant: bool = True):
    """The 16 products of conftest (every colour of every kind; 3 photos each: the product's colour, shaded per
    photo, over a band of its kind's colour), with one error of each kind planted (``plant``), plus the duplicate
    listing."""
    photos = {}
    for kind in KINDS:
        for colour, rgb in COLOURS.items():
            sku = f"{kind[:3].upper()}-{colour[:3].upper()}"
            photos[sku] = [
                catalog_dir.add_photo(f"{sku}-{n}.jpg", photo_bytes(rgb, BANDS[kind], 20 * n)) for n in range(3)
            ]
    if plant:
        photos[SWAPPED[0]][2] = SWAPPED[1]
    for kind in KINDS:
        for colour in COLOURS:
            sku = f"{kind[:3].upper()}-{colour[:3].upper()}"
            category = f"Outdoor/{kind}s"
            stated = colour
            if plant and sku == MOVED[0]:
                category = MOVED[1]
            if plant and sku == RECOLOURED[0]:
                stated = RECOLOURED[1]
            catalog_dir.add_product(
                sku=sku,
                name=f"{colour} {kind.lower()}",
                categories=[category],
                attributes={"color": stated},
                description=f"A {colour.lower()} {kind.lower()} for the outdoors.",
                images=photos[sku],
            )
    if plant:
        catalog_dir.add_product(
            sku=DUPLICATE[0],
            name="Red jacket (new)",
            categories=["Outdoor/Jackets"],
            attributes={"color": "Red"},
            description="A red jacket for the outdoors.",
            images=photos[DUPLICATE[1]],
        )
    return catalog_dir.write()


@pytest.fixture(autouse=True)
def two_rounds(monkeypatch):
    """Two rounds of held-out heads instead of six: the tiny catalog's errors stand out without averaging, and
    the file stays quick."""
    from quality import heldout

    monkeypatch.setattr(heldout, "ROUNDS", 2)


@pytest.fixture
def planted(catalog_dir):
    catalog_import(path=write_planted_catalog(catalog_dir))
    return build_generation()


def _top(findings, kind):
    return [f for f in findings if f.kind == kind]


def test_each_planted_error_tops_its_kind_and_clean_products_are_not_listed(planted):
    # given a catalog with one error of each kind, and a generation of it
    # when the check runs
    result = catalog_findings_compute(generation=planted)
    skus = dict(Product.objects.values_list("id", "sku"))

    # then each error is the first of its kind, listed, with its evidence
    photo = _top(result.findings, checks.PHOTO)[0]
    assert skus[photo.product_id] == SWAPPED[0] and photo.image.source == SWAPPED[1] and photo.flagged
    assert skus[photo.other_product_id].endswith("-RED")  # the photo looks like a red product
    assert "BOT-RED-1.jpg looks like" in photo.evidence
    colour = _top(result.findings, checks.COLOUR)[0]
    assert (skus[colour.product_id], colour.details["stated"], colour.details["looks"]) == (*RECOLOURED, "Green")
    assert colour.flagged
    category = _top(result.findings, checks.CATEGORY)[0]
    assert skus[category.product_id] == MOVED[0] and category.details["looks"] == "Outdoor/Tents"
    assert category.flagged
    duplicate = _top(result.findings, checks.DUPLICATE)[0]
    assert (skus[duplicate.product_id], skus[duplicate.other_product_id]) == DUPLICATE and duplicate.flagged
    # and no clean product is listed (the planted ones and the duplicate's original only)
    involved = {SWAPPED[0], RECOLOURED[0], MOVED[0], *DUPLICATE}
    listed = {skus[f.product_id] for f in result.findings if f.flagged}
    assert listed <= involved, listed - involved
    assert result.products == 17 and result.photos == 51 and result.notes == []


def test_a_clean_catalog_lists_nothing(catalog_dir):
    # given the same catalog without the planted errors
    catalog_import(path=write_planted_catalog(catalog_dir, plant=False))
    generation = build_generation()

    # when the check runs
    result = catalog_findings_compute(generation=generation)

    # then nothing is listed
    assert [f.evidence for f in result.findings if f.flagged] == []


def test_a_text_only_generation_is_checked_by_text_and_says_what_it_skipped(catalog_dir):
    # given a catalog with too few photos to train a head: a text-only generation
    catalog_import(path=write_small_catalog(catalog_dir, photos_per_product=1))
    generation = build_generation()
    assert generation.text_only

    # when the check runs
    result = catalog_findings_compute(generation=generation)

    # then it says why there are no photo or colour findings, and still judges categories and duplicates by text
    assert result.notes == ["text-only generation: no photo or colour checks, categories by text alone"]
    assert {f.kind for f in result.findings} <= {checks.CATEGORY, checks.DUPLICATE}


def test_the_report_stores_the_listed_findings_and_replaces_the_previous_one(planted):
    # given a report of the generation
    first = quality_report_build(generation=planted)

    # when the check runs again
    second = quality_report_build(generation=planted)

    # then only the new report remains, with the listed findings worst first
    assert list(QualityReport.objects.values_list("id", flat=True)) == [second.pk]
    assert not Finding.objects.filter(report_id=first.pk).exists()
    scores = list(second.findings.values_list("score", flat=True))
    assert scores == sorted(scores, reverse=True) and min(scores) >= checks.FLAG_SCORE
    assert set(second.findings.values_list("kind", flat=True)) == set(checks.KINDS)


def test_near_duplicate_candidates_through_the_index_find_the_planted_pair(planted):
    # given the generation's HNSW indexes
    vectors = catalog_vectors(planted)
    index = {sku: i for i, sku in enumerate(vectors.skus)}

    # when candidates are read through the index, as for a catalog above EXACT_PAIRS_MAX
    ids = {product_id: i for i, product_id in enumerate(vectors.product_ids)}
    pairs = np.array([(ids[a], ids[b]) for a, b in duplicate_candidates(planted, k=3)])
    findings = checks.near_duplicates(vectors, pairs)

    # then the planted pair is among them and the best scored, as with every pair compared
    expected = sorted((index[DUPLICATE[0]], index[DUPLICATE[1]]))
    assert expected in pairs.tolist()
    best = max(findings, key=lambda f: f.score)
    assert sorted((best.product, best.other_product)) == expected
    exact = max(checks.near_duplicates(vectors, checks.all_pairs(vectors)), key=lambda f: f.score)
    assert (exact.product, exact.other_product) == (best.product, best.other_product)


def test_scores_are_standard_scores_against_the_catalogs_usual_margin():
    # given margins with one outlier
    margins = np.array([0.0, 0.1, -0.1, 0.05, -0.05, 1.0])

    # when scored
    scores = checks._scores(margins)

    # then the outlier is far above the others, which stay near 0
    assert scores[-1] > 8 and np.all(np.abs(scores[:-1]) < 1.5)


# --- the checks on hand-made vectors (no database) ----------------------------------------------------------------


def _vectors(products: list[dict], photos: list[dict]) -> checks.CatalogVectors:
    """CatalogVectors from plain lists: products {sku, text, colours}, photos {product, image, colours}."""
    return checks.CatalogVectors(
        product_ids=list(range(1, len(products) + 1)),
        skus=[p["sku"] for p in products],
        names=[p["sku"] for p in products],
        categories=["Outdoor/Things"] * len(products),
        colours=[p.get("colours", []) for p in products],
        text=checks._unit(np.array([p["text"] for p in products], dtype=float)),
        image=np.zeros((len(products), len(photos[0]["image"]))),
        photo_ids=list(range(1, len(photos) + 1)),
        photo_names=[f"images/{i}.jpg" for i in range(len(photos))],
        photo_product=np.array([p["product"] for p in photos]),
        photo_colours=[p.get("colours", []) for p in photos],
        photo_image=checks._unit(np.array([p["image"] for p in photos], dtype=float)),
    )


def _held(joint: np.ndarray, product_text: np.ndarray, palette=(), reading=None) -> checks.HeldOut:
    """One round of one fold: every photo's held-out vector ``joint`` against ``product_text``."""
    return checks.HeldOut(
        fold=np.zeros((1, len(joint)), dtype=int),
        photo_joint=checks._unit(joint)[None],
        product_text=checks._unit(product_text)[None, None],
        palette=list(palette),
        colour_log_probability=reading,
    )


def test_a_photo_that_also_looks_like_the_other_products_photos_ranks_above_one_that_only_reads_like_its_text():
    # given 12 products with two photos each (each product's photos alike, products apart), where the held-out text
    # side sees photo 0 of product 0 and photo 0 of product 1 equally close to product 11's text, but only the
    # first of them also looks like product 11's own photos
    rng = np.random.default_rng(0)
    count, dim = 12, 16
    looks = checks._unit(rng.normal(size=(count, dim)))
    products = [{"sku": f"P{i}", "text": looks[i]} for i in range(count)]
    photos = [{"product": i, "image": looks[i] + 0.05 * rng.normal(size=dim)} for i in range(count) for _ in (0, 1)]
    photos[0]["image"] = looks[11] + 0.05 * rng.normal(size=dim)  # product 11's photo on product 0
    joint = np.array([p["image"] for p in photos])
    joint[0] = 0.6 * looks[11] + 0.4 * looks[0]  # both read as product 11 by the text, a little as their own
    joint[2] = 0.6 * looks[11] + 0.4 * looks[1]
    vectors = _vectors(products, photos)

    # when the photo check runs
    findings = checks.photos_of_other_products(vectors, _held(joint, looks), twins=set())

    # then both point at product 11, and the one whose photos agree comes first, with the photos as evidence
    ranked = [f.photo for f in sorted(findings, key=lambda f: -f.score)]
    assert ranked.index(0) < ranked.index(2)
    first = next(f for f in findings if f.photo == 0)
    assert first.other_product == 11 and "photos" in first.evidence and first.details["photos_other"] > 0.9


def test_one_colour_finding_per_product_names_its_other_contradicted_colours_and_skips_a_repeat_listing():
    # given a reader of three colours and 30 products whose one photo reads as the colour they state, and product
    # 0 stating Black and White whose Black and White photos both read Red, product 1 a repeat listing of it
    palette = ["Black", "Red", "White"]
    products = [{"sku": f"P{i}", "text": [1.0, i], "colours": [palette[i % 3]]} for i in range(30)]
    photos = [{"product": i, "image": [1.0, i], "colours": products[i]["colours"]} for i in range(30)]
    reading = [[0.8 if c == products[i]["colours"][0] else 0.1 for c in palette] for i in range(30)]
    for product in (0, 1):
        products[product]["colours"] = ["Black", "White"]
        photos[product]["colours"] = ["Black"]
        reading[product] = [0.04, 0.92, 0.04]
        photos.append({"product": product, "image": [1.0, 0.5], "colours": ["White"]})
        reading.append([0.06, 0.88, 0.06])
    vectors = _vectors(products, photos)
    held = _held(np.ones((len(photos), 2)), np.ones((len(products), 2)), palette, np.log(np.array(reading)))

    # when the colour check runs, product 1 being the later listing of a near-duplicate pair
    findings = checks.colours_contradicted(vectors, held, repeats={1})

    # then product 0 has one finding, its worst colour, naming the other; the repeat listing has none
    listed = [f for f in findings if f.flagged]
    assert [(f.product, f.details["stated"], f.details["looks"]) for f in listed] == [(0, "Black", "Red")]
    assert "also White looks Red" in listed[0].evidence
    assert not any(f.product == 1 for f in findings)


def test_a_colour_the_reader_never_learned_is_judged_as_its_nearest_named_colour():
    # given a reader of three colours, 30 products whose one photo reads as the colour they state, product 0 stating
    # Lavender (a colour with too few photos to learn) with a photo that reads Black, product 1 stating Lavender
    # with a photo that reads Red, and Lavender's alias Red
    palette = ["Black", "Red", "White"]
    products = [{"sku": f"P{i}", "text": [1.0, i], "colours": [palette[i % 3]]} for i in range(30)]
    photos = [{"product": i, "image": [1.0, i], "colours": products[i]["colours"]} for i in range(30)]
    reading = [[0.8 if c == products[i]["colours"][0] else 0.1 for c in palette] for i in range(30)]
    for product, looks in ((0, "Black"), (1, "Red")):
        products[product]["colours"] = photos[product]["colours"] = ["Lavender"]
        reading[product] = [0.9 if c == looks else 0.05 for c in palette]
    held = _held(np.ones((30, 2)), np.ones((30, 2)), palette, np.log(np.array(reading)))
    held.colour_aliases = {"Lavender": "Red"}

    # when the colour check runs
    findings = checks.colours_contradicted(_vectors(products, photos), held)

    # then the Black-looking one is listed as contradicted, the Red-looking one is not
    listed = [(f.product, f.details["stated"], f.details["looks"]) for f in findings if f.flagged]
    assert listed == [(0, "Lavender", "Black")]


def test_every_photo_of_a_colour_must_contradict_it():
    # given 30 products reading as their colour, product 0 stating Black with two photos, one reading Red and one
    # Black, and product 1 stating Black with two photos both reading Red
    palette = ["Black", "Red", "White"]
    products = [{"sku": f"P{i}", "text": [1.0, i], "colours": [palette[i % 3]]} for i in range(30)]
    photos = [{"product": i, "image": [1.0, i], "colours": products[i]["colours"]} for i in range(30)]
    reading = [[0.8 if c == products[i]["colours"][0] else 0.1 for c in palette] for i in range(30)]
    for product, second in ((0, [0.9, 0.05, 0.05]), (1, [0.05, 0.9, 0.05])):
        products[product]["colours"] = photos[product]["colours"] = ["Black"]
        reading[product] = [0.05, 0.9, 0.05]
        photos.append({"product": product, "image": [1.0, 0.5], "colours": ["Black"]})
        reading.append(second)
    held = _held(np.ones((len(photos), 2)), np.ones((30, 2)), palette, np.log(np.array(reading)))

    # when the colour check runs
    findings = sorted(checks.colours_contradicted(_vectors(products, photos), held), key=lambda f: -f.score)

    # then the product whose photos all read Red is listed first, the one with a Black photo is not listed
    assert findings[0].product == 1 and findings[0].flagged
    assert not any(f.product == 0 and f.flagged for f in findings)


def test_the_colour_reader_folds_by_product_and_aliases_colours_by_their_phrases():
    # given 4 products, two photos each, one stating Lilac (not in the palette), and a text encoder that puts
    # "Lilac ..." nearest "Red ..."
    from quality.heldout import colour_aliases, colour_folds

    products = [
        {"sku": f"P{i}", "text": [1.0, i], "colours": [c]} for i, c in enumerate(["Black", "Red", "Lilac", "Red"])
    ]
    photos = [{"product": i, "image": [1.0, i], "colours": products[i]["colours"]} for i in range(4) for _ in (0, 1)]
    vectors = _vectors(products, photos)
    axes = {"Black": [1.0, 0.0, 0.0], "Red": [0.0, 1.0, 0.0], "Lilac": [0.1, 0.9, 0.4]}

    def encode_texts(texts):
        return np.array([axes[text.split()[0]] for text in texts])

    # when the folds and aliases are computed
    folds = colour_folds(vectors)
    aliases = colour_aliases(vectors=vectors, palette=["Black", "Red"], encode_texts=encode_texts)

    # then a product's photos share a fold, and Lilac is read as Red
    assert all(folds[2 * i] == folds[2 * i + 1] for i in range(4))
    assert aliases == {"Lilac": "Red"}


def test_the_colour_reader_reads_each_photos_pixels_finer_than_the_image_vectors_colours(catalog_dir):
    # given two products whose photos are a red and an orange garment on a studio backdrop, and a third whose
    # photo file is gone from storage
    from django.core.files.storage import default_storage

    from embeddings.neural.encoders import colour_appearance
    from quality.heldout import COLOUR_READER_BINS
    from quality.selectors import photo_colour_histograms

    def garment(rgb):
        image = Image.new("RGB", (80, 80), (255, 255, 255))
        ImageDraw.Draw(image).rectangle((20, 10, 60, 70), fill=rgb)
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=95)
        return buffer.getvalue()

    for sku, rgb in (("RED", (220, 30, 30)), ("ORA", (230, 120, 20)), ("GONE", (20, 20, 220))):
        catalog_dir.add_product(sku=sku, images=[catalog_dir.add_photo(f"{sku}.jpg", garment(rgb))])
    catalog_import(path=catalog_dir.write())
    photos = {p.product.sku: p for p in ProductImage.objects.select_related("product")}
    default_storage.delete(photos["GONE"].file.name)

    # when the reader's histograms are read from the stored photos
    ids = [photos[sku].id for sku in ("RED", "ORA", "GONE")]
    histograms = photo_colour_histograms(ids, COLOUR_READER_BINS)

    # then red and orange share no bin, where the image vectors' coarser histogram puts them in one hue; the
    # photo that cannot be read is a row of zeros
    red, orange, gone = histograms
    assert histograms.shape == (3, int(np.prod(COLOUR_READER_BINS)))
    assert np.isclose(np.linalg.norm(red), 1.0) and red @ orange < 0.05
    coarse = [colour_appearance(Image.open(io.BytesIO(garment(rgb)))) for rgb in ((220, 30, 30), (230, 120, 20))]
    assert coarse[0] @ coarse[1] > 0.5
    assert not gone.any()


def test_held_out_heads_judge_each_photo_in_every_round_by_a_head_that_never_saw_it(catalog_dir):
    # given the planted catalog's vectors
    catalog_import(path=write_planted_catalog(catalog_dir))
    generation = build_generation()
    vectors = catalog_vectors(generation)
    from embeddings.services.embedding import generation_models
    from quality.heldout import heldout_project

    # when photos are projected by held-out heads, 2 rounds of 3 folds
    encoders, _head = generation_models(generation)
    held = heldout_project(vectors=vectors, encode_texts=encoders.text.encode_texts, folds=3, rounds=2)

    # then every round splits the photos its own way into 3 folds, and each photo has a vector in every round
    photos = len(vectors.photo_ids)
    assert held.fold.shape == (2, photos) and held.photo_joint.shape[:2] == (2, photos)
    assert held.product_text.shape[:3] == (2, 3, len(vectors.skus))
    assert {0, 1, 2} == set(held.fold[0].tolist()) == set(held.fold[1].tolist())
    assert (held.fold[0] != held.fold[1]).any()
    assert np.allclose(np.linalg.norm(held.photo_joint, axis=-1), 1.0, atol=1e-4)


# --- export -----------------------------------------------------------------------------------------------------


def test_the_command_exports_csv_worst_first_and_filters_by_kind(planted, tmp_path):
    # given a stored report
    quality_report_build(generation=planted)

    # when it is exported as CSV to a file, one kind
    target = tmp_path / "quality.csv"
    call_command("catalog_quality", "--kind", "wrong_category", "--output", str(target), stderr=io.StringIO())

    # then the file holds that kind only, worst first, with the evidence
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert rows and {row["kind"] for row in rows} == {"wrong_category"}
    assert rows[0]["sku"] == MOVED[0] and "Outdoor/Tents" in rows[0]["evidence"]
    assert [float(r["score"]) for r in rows] == sorted((float(r["score"]) for r in rows), reverse=True)
    assert json.loads(rows[0]["details"])["category"] == MOVED[1]


def test_the_command_computes_a_report_when_none_exists_and_writes_jsonl(planted):
    # given no report yet
    assert not QualityReport.objects.exists()

    # when exported as JSON lines, at most 2
    out, err = io.StringIO(), io.StringIO()
    call_command("catalog_quality", "--format", "jsonl", "--limit", "2", stdout=out, stderr=err)

    # then a report was computed and stored, and the 2 worst findings come out
    assert QualityReport.objects.count() == 1
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == 2 and lines[0]["rank"] == 1 and lines[0]["score"] >= lines[1]["score"]
    assert {"kind", "sku", "photo", "other_sku", "evidence", "changed_since"} <= set(lines[0])
    assert "checking generation" in err.getvalue()


def test_the_command_refuses_without_an_active_generation():
    with pytest.raises(CommandError, match="no active generation"):
        call_command("catalog_quality", stdout=io.StringIO(), stderr=io.StringIO())


def test_a_finding_whose_product_changed_since_says_so(planted):
    # given a stored report, then the recoloured product is edited
    quality_report_build(generation=planted)
    Product.objects.filter(sku=RECOLOURED[0]).update(content_version=99)

    # when exported
    out = io.StringIO()
    call_command("catalog_quality", "--format", "jsonl", "--kind", "colour_contradicted", stdout=out,
                 stderr=io.StringIO())  # fmt: skip

    # then its finding says the product changed since the check
    first = json.loads(out.getvalue().splitlines()[0])
    assert first["sku"] == RECOLOURED[0] and first["changed_since"] is True


# --- admin page -------------------------------------------------------------------------------------------------


@pytest.fixture
def staff_client():
    user = get_user_model().objects.create_user("staff", password="pw", is_staff=True, is_superuser=True)
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    return client


def test_the_admin_page_lists_findings_worst_first_with_evidence_and_links(planted, staff_client):
    # given a stored report
    report = quality_report_build(generation=planted)
    top = report.findings.order_by("-score").first()

    # when staff open the page, then one kind
    page = staff_client.get("/admin/catalog-quality/")
    photos = staff_client.get("/admin/catalog-quality/", {"kind": "photo_of_other_product"})

    # then every listed finding is there with its evidence and a link to its product
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('class="finding"') == report.findings.count()
    assert escape(top.evidence) in html
    assert f"/admin/catalog/product/{top.product_id}/change/" in html
    rows = html.split('class="finding"')[1:]
    assert top.product.sku in rows[0] and escape(top.evidence) in rows[0]  # the worst first
    photo_html = photos.content.decode()
    assert photo_html.count('class="finding"') == report.findings.filter(kind="photo_of_other_product").count()
    assert "BOT-RED-1.jpg" in photo_html and "<img" in photo_html


def test_the_admin_page_without_a_report_offers_to_run_the_check(staff_client):
    page = staff_client.get("/admin/catalog-quality/")
    assert page.status_code == 200 and "no quality report" in page.content.decode().lower()


def test_the_admin_page_is_for_staff_only(planted):
    user = get_user_model().objects.create_user("shopper", password="pw")
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    assert client.get("/admin/catalog-quality/").status_code == 403
    assert Client(HTTP_HOST="localhost").get("/admin/catalog-quality/").status_code == 302
    finding = quality_report_build(generation=planted).findings.first()
    assert client.post(f"/admin/catalog-quality/findings/{finding.pk}/dismiss/").status_code == 403
    assert Finding.objects.filter(pk=finding.pk).exists() and not Dismissal.objects.exists()


# --- marked as fine -------------------------------------------------------------------------------------------


def _dismiss(client, finding):
    return client.post(f"/admin/catalog-quality/findings/{finding.pk}/dismiss/")


def test_a_finding_marked_as_fine_leaves_the_report_and_later_checks_until_its_product_changes(planted, staff_client):
    # given a stored report listing the recoloured product's colour
    report = quality_report_build(generation=planted)
    colour = report.findings.get(kind=checks.COLOUR, product__sku=RECOLOURED[0])

    # when staff mark it as fine
    response = _dismiss(staff_client, colour)

    # then it leaves the report at once, and the page lists it as marked fine, by whom
    assert response.status_code == 302
    assert not Finding.objects.filter(pk=colour.pk).exists()
    page = staff_client.get("/admin/catalog-quality/").content.decode()
    assert page.count('class="dismissal"') == 1 and RECOLOURED[0] in page.split('id="dismissals"')[1]
    dismissal = Dismissal.objects.get()
    assert (dismissal.kind, dismissal.key, dismissal.by) == (checks.COLOUR, RECOLOURED[1], "staff")
    # and the next check does not list it, and says so, while the other errors stay listed
    again = quality_report_build(generation=planted)
    assert not again.findings.filter(kind=checks.COLOUR, product__sku=RECOLOURED[0]).exists()
    assert again.notes == ["1 finding marked as fine not listed"]
    assert again.findings.filter(kind=checks.PHOTO, product__sku=SWAPPED[0]).exists()

    # when the product changes, the mark lapses: the page says so and the check judges the product afresh
    Product.objects.filter(sku=RECOLOURED[0]).update(content_version=F("content_version") + 1)
    assert "lapsed" in staff_client.get("/admin/catalog-quality/").content.decode()
    third = quality_report_build(generation=planted)
    assert third.findings.filter(kind=checks.COLOUR, product__sku=RECOLOURED[0]).exists() and third.notes == []


def test_each_kind_can_be_marked_fine_and_taken_back(planted, staff_client):
    # given the worst finding of each kind marked as fine
    report = quality_report_build(generation=planted)
    tops = [report.findings.filter(kind=kind).order_by("-score").first() for kind in checks.KINDS]
    marked = {(f.kind, f.product_id, f.image_id, f.other_product_id) for f in tops}
    for finding in tops:
        assert _dismiss(staff_client, finding).status_code == 302

    # when the check runs again, none of them is listed
    again = quality_report_build(generation=planted)
    listed = {(f.kind, f.product_id, f.image_id, f.other_product_id) for f in again.findings.all()}
    assert not listed & marked and again.notes == ["4 findings marked as fine not listed"]
    assert set(Dismissal.objects.values_list("kind", flat=True)) == set(checks.KINDS)

    # when the duplicate's mark is taken back, the next check lists it again
    dismissal = Dismissal.objects.get(kind=checks.DUPLICATE)
    assert staff_client.post(f"/admin/catalog-quality/dismissals/{dismissal.pk}/restore/").status_code == 302
    third = quality_report_build(generation=planted)
    assert third.findings.filter(kind=checks.DUPLICATE, product__sku=DUPLICATE[0]).exists()


def test_marking_an_unknown_finding_or_taking_back_an_unknown_mark_is_404_and_changes_nothing(planted, staff_client):
    report = quality_report_build(generation=planted)
    count = report.findings.count()
    assert staff_client.post("/admin/catalog-quality/findings/999999/dismiss/").status_code == 404
    assert staff_client.post("/admin/catalog-quality/dismissals/999999/restore/").status_code == 404
    assert staff_client.get(f"/admin/catalog-quality/findings/{report.findings.first().pk}/dismiss/").status_code == 405
    assert report.findings.count() == count and not Dismissal.objects.exists()
