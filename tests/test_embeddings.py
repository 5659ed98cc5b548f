"""Embeddings: encoders, the alignment head, fused vectors, freshness and generations."""

import json
import signal
import threading
import time
from contextlib import contextmanager
from datetime import timedelta

import numpy as np
import pytest
import torch
from django.db import connection, connections
from django.utils import timezone
from PIL import Image

from catalog.models import Product, ProductImage
from catalog.services import catalog_import
from embeddings.models import EmbeddingGeneration, ImageEmbedding, Job, ProductEmbedding
from embeddings.neural.encoders import EncoderSpec, load_encoders, open_image
from embeddings.neural.head import AlignmentHead, HeadConfig, TrainingData, train_head
from embeddings.selectors import active_generation, nearest_products
from embeddings.services.embedding import generation_models
from embeddings.services.freshness import stale_products_embed
from embeddings.services.generations import (
    GenerationError,
    generation_activate,
    generation_create,
    generation_rollback,
    generations_collect,
)
from embeddings.services.jobs import JOB_LOCK_NAMESPACE, JobHeartbeat
from embeddings.services.operations import job_run, job_start, jobs_requeue_stalled

from .conftest import build_generation, jpeg_bytes, spawn_worker, write_small_catalog

# --- encoders -------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_real_text_encoder_gives_normalised_384_d_vectors():
    encoders = load_encoders(EncoderSpec(text="minilm", image="pixel-stats"))
    vectors = encoders.text.encode_texts(["black hoodie", "red running jacket", "yoga mat"])
    assert vectors.shape == (3, 384) and encoders.text.dim == 384
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # and it reads meaning: a hoodie is closer to a sweatshirt than to a yoga mat
    hoodie, sweatshirt, mat = encoders.text.encode_texts(["hoodie", "sweatshirt", "yoga mat"])
    assert hoodie @ sweatshirt > hoodie @ mat


@pytest.mark.slow
@pytest.mark.parametrize("fit", ["pad", "crop"])
def test_real_image_encoder_gives_normalised_1280_d_vectors(fit):
    encoders = load_encoders(EncoderSpec(text="hashing", image="efficientnet-lite0", image_fit=fit))
    photos = [Image.new("RGB", (300, 200), (200, 30, 30)), Image.new("RGB", (120, 260), (30, 30, 200))]
    vectors = encoders.image.encode_images(photos)
    assert vectors.shape == (2, 1280) and encoders.image.input_size == 224
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert encoders.image.preprocess(photos[1]).shape == (3, 224, 224)
    # one photo alone (a photo search's query) goes through the traced, frozen network: the same vector
    alone = encoders.image.encode_images(photos[1:])
    assert isinstance(encoders.image._single, torch.jit.ScriptModule)
    assert np.allclose(alone[0], vectors[1], atol=1e-5)


def test_colour_appearance_reads_the_product_not_the_studio_background():
    from embeddings.neural.encoders import colour_appearance

    def product_on_white(colour, size):
        photo = Image.new("RGB", (200, 200), (255, 255, 255))
        photo.paste(Image.new("RGB", size, colour), (20, 30))
        return photo

    small_red, large_red = product_on_white((200, 30, 30), (40, 60)), product_on_white((200, 30, 30), (150, 160))
    blue = product_on_white((30, 40, 200), (150, 160))
    assert colour_appearance(small_red) @ colour_appearance(large_red) > 0.98  # the backdrop does not count
    assert colour_appearance(large_red) @ colour_appearance(blue) < 0.1
    white = colour_appearance(Image.new("RGB", (50, 50), (255, 255, 255)))  # nothing but backdrop: all pixels
    assert white.shape == (128,) and np.isclose(np.linalg.norm(white), 1.0)


def test_colour_appearance_is_appended_to_the_image_features_and_weighted():
    base = load_encoders(EncoderSpec(text="hashing", image="pixel-stats"))
    coloured = load_encoders(EncoderSpec(text="hashing", image="pixel-stats", image_colour=2.0))
    photos = [Image.new("RGB", (64, 48), (200, 30, 30)), Image.new("RGB", (64, 48), (30, 40, 200))]
    plain, vectors = base.image.encode_images(photos), coloured.image.encode_images(photos)
    assert coloured.image.dim == base.image.dim + 128 and vectors.shape == (2, 192)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # the cosine of two photos is the network's cosine and the colour cosine, weighted 1 : weight^2
    from embeddings.neural.encoders import colour_appearance

    colour = colour_appearance(photos[0]) @ colour_appearance(photos[1])
    assert np.isclose(vectors[0] @ vectors[1], (plain[0] @ plain[1] + 4 * colour) / 5, atol=1e-5)
    # a generation built before the option existed reads as without it
    old = {"backend": "default", "text": "hashing", "image": "pixel-stats", "clip_model": "", "image_fit": "pad",
           "clip_loader": "sentence-transformers"}  # fmt: skip
    assert EncoderSpec.from_dict(old).image_colour == 0.0 and EncoderSpec.from_dict(old).as_dict() == old


@pytest.mark.slow
def test_with_colour_appearance_a_back_view_finds_its_hoodie():
    """The real image encoder on the demo's men's hoodies: each back view (withheld from the catalog) against
    every hoodie's catalog photos. The network alone sees "a hoodie" in every back view; its colours tell which."""
    from embeddings.neural.encoders import ColourAppearanceEncoder

    from .conftest import DEMO_CATALOG

    products = [json.loads(line) for line in (DEMO_CATALOG / "products.jsonl").read_text().splitlines()]
    hoodies = {p["sku"]: p for p in products if p["sku"].startswith("MH")}
    queries = [json.loads(line) for line in (DEMO_CATALOG / "eval" / "photo_queries.jsonl").read_text().splitlines()]
    queries = [(q["image"], next(iter(q["relevant"]))) for q in queries if next(iter(q["relevant"])) in hoodies]
    owners, photos = [], []
    for sku, product in hoodies.items():
        for source in dict.fromkeys(product["images"] + [i for v in product.get("variants", []) for i in v["images"]]):
            owners.append(sku)
            photos.append(Image.open(DEMO_CATALOG / source).convert("RGB"))
    owners = np.array(owners)
    query_photos = [Image.open(DEMO_CATALOG / image).convert("RGB") for image, _sku in queries]
    network = load_encoders(EncoderSpec(text="hashing", image="efficientnet-lite0")).image

    def recall_at_1(encoder) -> float:
        catalog, asked = encoder.encode_images(photos), encoder.encode_images(query_photos)
        best = [max(hoodies, key=lambda sku, row=row: float((catalog[owners == sku] @ row).max())) for row in asked]
        return float(np.mean([found == sku for found, (_image, sku) in zip(best, queries, strict=True)]))

    alone, with_colour = recall_at_1(network), recall_at_1(ColourAppearanceEncoder(network, 1.0))
    assert len(queries) >= 10 and with_colour >= 0.8 and with_colour > alone + 0.2, (alone, with_colour)


def test_photo_decoding_applies_exif_orientation():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees
    image = open_image(jpeg_bytes(size=(40, 20), exif=exif))
    assert image.size == (20, 40) and image.mode == "RGB"


def make_tiny_clip(path):
    """A randomly initialised CLIP with a byte-level tokenizer, saved like a real checkpoint folder."""
    import torch
    from tokenizers.pre_tokenizers import ByteLevel
    from transformers import (
        CLIPConfig,
        CLIPImageProcessorPil,
        CLIPModel,
        CLIPProcessor,
        CLIPTextConfig,
        CLIPTokenizer,
        CLIPVisionConfig,
    )

    torch.manual_seed(0)
    alphabet = sorted(ByteLevel.alphabet())
    tokens = ["<|startoftext|>", "<|endoftext|>", *alphabet, *(a + "</w>" for a in alphabet)]
    vocab = {token: i for i, token in enumerate(tokens)}
    tokenizer = CLIPTokenizer(vocab=vocab, merges=[], model_max_length=32)
    images = CLIPImageProcessorPil(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    config = CLIPConfig(
        text_config=CLIPTextConfig(
            vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
            max_position_embeddings=32, bos_token_id=0, eos_token_id=1, pad_token_id=1,
        ),
        vision_config=CLIPVisionConfig(
            hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2, image_size=32,
            patch_size=8,
        ),
        projection_dim=16,
    )  # fmt: skip
    CLIPModel(config).eval().save_pretrained(path)
    CLIPProcessor(image_processor=images, tokenizer=tokenizer).save_pretrained(path)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("loader", ["sentence-transformers", "transformers"])
def test_a_clip_from_a_local_folder_embeds_photos_and_texts_into_one_space(tmp_path, loader):
    folder = str(make_tiny_clip(tmp_path / "tiny-clip"))
    encoders = load_encoders(EncoderSpec(backend="clip", clip_model=folder, clip_loader=loader))
    text = encoders.text.encode_texts(["a red hoodie", "a blue tent"])
    photo = encoders.image.encode_images([Image.new("RGB", (64, 48), (200, 30, 30))])
    assert encoders.shared_space
    assert text.shape == (2, 16) and photo.shape == (1, 16)
    assert np.allclose(np.linalg.norm(np.vstack([text, photo]), axis=1), 1.0, atol=1e-5)
    # the same model through the other loader gives the same vectors
    other = "transformers" if loader == "sentence-transformers" else "sentence-transformers"
    twin = load_encoders(EncoderSpec(backend="clip", clip_model=folder, clip_loader=other))
    assert np.allclose(twin.text.encode_texts(["a red hoodie", "a blue tent"]), text, atol=1e-4)


@pytest.mark.slow
@pytest.mark.django_db
def test_a_clip_generation_starts_from_an_identity_head(tmp_path, catalog_dir, settings):
    settings.EMBEDDING_BACKEND = "clip"
    settings.EMBEDDING_CLIP_MODEL = str(make_tiny_clip(tmp_path / "tiny-clip"))
    catalog_import(path=write_small_catalog(catalog_dir, photos_per_product=1))

    generation = build_generation()

    assert generation.state == EmbeddingGeneration.State.ACTIVE
    assert generation.head.report == {"identity": True} and generation.joint_dim == 16
    encoders, head = generation_models(generation)
    photo = encoders.image.encode_images([Image.new("RGB", (32, 32), (10, 20, 30))])
    assert np.allclose(head.project(photo, "image"), photo, atol=1e-5)  # identity: CLIP's own space
    assert ProductEmbedding.objects.filter(generation=generation).count() == 16


# --- alignment head -------------------------------------------------------------------------------------------


def synthetic_pairs(products=12, photos=4, texts=3, seed=0) -> TrainingData:
    """Photo and text features that are two different random views of a hidden per-product code."""
    rng = np.random.default_rng(seed)
    codes = rng.normal(size=(products, 8))
    image_map, text_map = rng.normal(size=(8, 48)), rng.normal(size=(8, 24))
    image_groups = np.repeat(np.arange(products), photos)
    text_groups = np.repeat(np.arange(products), texts)
    image_features = codes[image_groups] @ image_map + 0.3 * rng.normal(size=(products * photos, 48))
    text_features = codes[text_groups] @ text_map + 0.3 * rng.normal(size=(products * texts, 24))
    return TrainingData(
        image_features=image_features.astype(np.float32),
        image_groups=image_groups,
        text_features=text_features.astype(np.float32),
        text_groups=text_groups,
        texts_of_image=[list(np.flatnonzero(text_groups == g)) for g in image_groups],
    )


def test_alignment_training_ranks_the_matching_text_first_and_is_reproducible():
    data = synthetic_pairs()
    config = HeadConfig(joint_dim=16, epochs=300, patience=40, seed=7)

    head, report = train_head(data, config)

    images = head.project(data.image_features, "image")
    texts = head.project(data.text_features, "text")
    best_text = np.argmax(images @ texts.T, axis=1)
    assert np.mean(data.text_groups[best_text] == data.image_groups) >= 0.95
    assert report.validation_loss < report.initial_validation_loss / 2
    assert 0 < report.best_epoch <= report.epochs
    # same data, same seed: the same weights
    again, _ = train_head(data, config)
    assert np.allclose(again.project(data.image_features, "image"), images)
    # and the head survives a round trip through the database format
    assert np.allclose(AlignmentHead.from_bytes(head.to_bytes()).project(data.text_features, "text"), texts)


def test_an_untrained_head_does_not_align():
    data = synthetic_pairs()
    head = AlignmentHead(48, 24, 16)
    images, texts = head.project(data.image_features, "image"), head.project(data.text_features, "text")
    assert np.mean(data.text_groups[np.argmax(images @ texts.T, axis=1)] == data.image_groups) < 0.5


# --- fused vectors and generations ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_generation_stores_fused_and_unimodal_vectors_for_every_product(catalog_dir):
    catalog_import(path=write_small_catalog(catalog_dir))

    generation = build_generation()

    assert generation.state == EmbeddingGeneration.State.ACTIVE and active_generation() == generation
    rows = ProductEmbedding.objects.filter(generation=generation)
    assert rows.count() == Product.objects.count() == 16
    assert ImageEmbedding.objects.filter(generation=generation).count() == ProductImage.objects.count() == 32
    row = rows.get(product__sku="JAC-RED")
    assert len(row.text_vector) == 64 and len(row.image_vector) == 64  # the stand-in encoders' spaces
    assert len(row.fused) == len(row.aligned_text) == len(row.aligned_image) == generation.joint_dim
    expected = 0.5 * np.asarray(row.aligned_image) + 0.5 * np.asarray(row.aligned_text)
    assert np.allclose(row.fused, expected / np.linalg.norm(expected), atol=1e-3)
    assert not Product.objects.filter(embeddings_stale=True).exists()
    # the generation has its HNSW indexes, on halfvec casts with the cosine opclass
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [f"emb_g{generation.pk}_fused"])
        (definition,) = cursor.fetchone()
    assert (
        "hnsw" in definition and "halfvec_cosine_ops" in definition and f"halfvec({generation.joint_dim})" in definition
    )


@pytest.mark.django_db
def test_nearest_products_follow_the_fused_vectors(catalog_dir):
    catalog_import(path=write_small_catalog(catalog_dir))
    generation = build_generation()
    target = ProductEmbedding.objects.get(generation=generation, product__sku="TEN-BLU")

    nearest = nearest_products(generation, target.fused, k=3)

    assert nearest[0] == (target.product_id, pytest.approx(0.0, abs=1e-3))
    assert len(nearest) == 3


@pytest.mark.django_db
def test_a_product_without_usable_photos_is_embedded_from_its_text(catalog_dir, media_root):
    catalog_dir.add_product(sku="NOPIC", name="Blue tent", images=["images/missing.jpg"])
    good = catalog_dir.add_photo("ok.jpg")
    bad = catalog_dir.add_photo("later-corrupt.jpg", jpeg_bytes(color=(1, 2, 3)))
    catalog_dir.add_product(sku="BROKEN", name="Red jacket", images=[good, bad])
    write_small_catalog(catalog_dir, photos_per_product=1)
    catalog_import(path=catalog_dir.path)
    # a stored photo that got corrupted on disk after the import
    corrupt = ProductImage.objects.get(source=bad)
    (media_root / corrupt.file.name).write_bytes(b"\xff\xd8\xff garbage")

    generation = build_generation()

    no_photo = ProductEmbedding.objects.get(generation=generation, product__sku="NOPIC")
    assert no_photo.image_vector is None and no_photo.aligned_image is None and no_photo.photo_count == 0
    assert np.allclose(no_photo.fused, no_photo.aligned_text, atol=1e-3)
    broken = ProductEmbedding.objects.get(generation=generation, product__sku="BROKEN")
    assert broken.photo_count == 1
    corrupt.refresh_from_db()
    assert corrupt.error == "embedding: not an image (or an image type Pillow cannot read)"
    assert ProductImage.objects.get(product__sku="NOPIC").error.startswith("photo not found")


@pytest.mark.django_db
def test_changes_mark_products_stale_and_the_batch_embeds_them(catalog_dir):
    catalog_import(path=write_small_catalog(catalog_dir))
    generation = build_generation()
    product = Product.objects.get(sku="BOT-GRE")
    version = product.content_version
    before = ProductEmbedding.objects.get(generation=generation, product=product)

    # when the product's text changes through the import
    catalog_dir.product_lines = [
        line.replace("A green bottle for the outdoors.", "A green bottle, insulated steel.")
        for line in catalog_dir.product_lines
    ]
    catalog_import(path=catalog_dir.write())

    # then only it is stale, with a new content version, and nothing was embedded synchronously
    product.refresh_from_db()
    assert product.embeddings_stale and product.content_version == version + 1
    assert list(Product.objects.filter(embeddings_stale=True).values_list("sku", flat=True)) == ["BOT-GRE"]
    assert ProductEmbedding.objects.get(pk=before.pk).content_version == version

    # when the stale batch runs
    assert stale_products_embed() == 1

    after = ProductEmbedding.objects.get(generation=generation, product=product)
    assert after.pk == before.pk and after.content_version == version + 1
    assert not np.allclose(after.text_vector, before.text_vector)
    product.refresh_from_db()
    assert not product.embeddings_stale


@pytest.mark.django_db
def test_a_new_review_marks_its_product_stale(catalog_dir):
    catalog_import(path=write_small_catalog(catalog_dir))
    build_generation()
    catalog_dir.add_review(sku="TEN-YEL", rating=5, title="Bright and roomy", body="", author="Dee")
    catalog_import(path=catalog_dir.write())
    assert list(Product.objects.filter(embeddings_stale=True).values_list("sku", flat=True)) == ["TEN-YEL"]


@pytest.mark.django_db
def test_activation_rollback_and_collection(catalog_dir):
    catalog_import(path=write_small_catalog(catalog_dir))
    first = build_generation()
    second = build_generation(image_weight=0.8, text_weight=0.2)
    third = build_generation(activate=False)

    assert active_generation() == second and third.state == EmbeddingGeneration.State.READY
    assert generation_rollback() == first
    assert EmbeddingGeneration.objects.get(pk=second.pk).state == EmbeddingGeneration.State.READY
    assert generation_activate(generation=third).pk == third.pk
    assert EmbeddingGeneration.objects.filter(state=EmbeddingGeneration.State.ACTIVE).count() == 1

    # keep one generation besides the active one: the most recently active (first) stays for rollback
    removed = generations_collect(keep=1)

    assert removed == [second.pk]
    assert set(EmbeddingGeneration.objects.values_list("pk", flat=True)) == {first.pk, third.pk}
    assert not ProductEmbedding.objects.filter(generation_id__in=removed).exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE indexname LIKE %s", [f"emb_g{removed[0]}_%"])
        assert cursor.fetchone()[0] == 0


@pytest.mark.django_db
def test_a_generation_that_is_not_built_cannot_be_activated(catalog_dir):
    catalog_import(path=write_small_catalog(catalog_dir))
    building = generation_create()
    with pytest.raises(GenerationError, match="not built"):
        generation_activate(generation=building)
    with pytest.raises(GenerationError, match="no earlier generation"):
        generation_rollback()


@pytest.mark.django_db(transaction=True)
def test_search_keeps_answering_while_generations_are_built_activated_and_rolled_back(catalog_dir):
    catalog_import(path=write_small_catalog(catalog_dir))
    first = build_generation()
    query = ProductEmbedding.objects.get(generation=first, product__sku="HOO-RED").fused
    answers, errors, stop = [], [], threading.Event()

    def search_loop():
        try:
            while not stop.is_set():
                generation = active_generation()
                answers.append((generation.pk, len(nearest_products(generation, query, k=5))))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=search_loop)
    thread.start()
    try:
        second = build_generation(image_weight=0.7, text_weight=0.3)
        generation_rollback()
        time.sleep(0.2)
    finally:
        stop.set()
        thread.join(timeout=30)

    assert errors == []
    assert {pk for pk, _ in answers} <= {first.pk, second.pk}
    assert answers and all(count == 5 for _, count in answers)
    assert active_generation() == first


@pytest.mark.django_db(transaction=True)
def test_stale_products_are_embedded_by_a_real_worker_after_commit(live_worker, catalog_dir):
    catalog_import(path=write_small_catalog(catalog_dir))
    generation = build_generation()

    # when a product changes (the import marks it stale and queues the work on commit)
    catalog_dir.add_product(sku="NEW-1", name="Purple tent", images=[catalog_dir.add_photo("p.jpg")])
    catalog_import(path=catalog_dir.write())
    assert Product.objects.get(sku="NEW-1").embeddings_stale

    # then a worker embeds it, without anyone calling the task by hand
    deadline = time.monotonic() + 60
    while Product.objects.filter(embeddings_stale=True).exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not Product.objects.filter(embeddings_stale=True).exists()
    assert ProductEmbedding.objects.filter(generation=generation, product__sku="NEW-1", photo_count=1).exists()


def build_job_of_120_products(catalog_dir) -> Job:
    """120 products with 3 photos each, and a job to build a new generation of them (not started)."""
    for n in range(120):
        photos = [catalog_dir.add_photo(f"k{n}-{i}.jpg", jpeg_bytes(color=(n, 2 * i, 100))) for i in range(3)]
        catalog_dir.add_product(sku=f"K{n:03d}", name=f"Kit number {n}", images=photos)
    catalog_import(path=catalog_dir.write())
    Product.objects.update(embeddings_stale=False)  # only the build writes to the generation in these tests
    return Job.objects.create(kind=Job.Kind.BUILD, generation=generation_create(), options={"activate": True})


def kill_mid_build(worker, generation: EmbeddingGeneration) -> None:
    """SIGKILL ``worker`` (no clean-up) once it has built 20 products, and check it stopped mid-build."""
    built = ProductEmbedding.objects.filter(generation=generation)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if built.count() >= 20:
                break
            time.sleep(0.01)
    finally:
        worker.stop(signal.SIGKILL)
    generation.refresh_from_db()
    assert generation.state == EmbeddingGeneration.State.BUILDING
    assert 0 < built.count() < Product.objects.count(), "the worker was not killed mid-build"
    advisory_locks_released()


def advisory_locks_released() -> None:
    """Wait until PostgreSQL has noticed that a killed process's connections closed (it takes a moment on a busy
    machine), and so released the locks they held (jobs', builds', chunks')."""
    deadline = time.monotonic() + 30
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid <> pg_backend_pid() "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
            if not cursor.fetchone()[0]:
                return
        assert time.monotonic() < deadline, "a killed process's advisory locks were not released within 30 s"
        time.sleep(0.05)


def assert_one_row_per_product_and_photo(generation: EmbeddingGeneration) -> None:
    rows = ProductEmbedding.objects.filter(generation=generation)
    assert rows.count() == rows.values("product").distinct().count() == Product.objects.count() == 120
    images = ImageEmbedding.objects.filter(generation=generation)
    assert images.count() == images.values("image").distinct().count() == 360


@pytest.mark.django_db(transaction=True)
def test_a_build_killed_mid_batch_and_run_again_leaves_exactly_one_row_per_product(
    catalog_dir, test_database, media_root
):
    from embeddings.tasks import run_job_task

    # given a generation waiting to be built by a worker, one product per transaction
    job = build_job_of_120_products(catalog_dir)
    generation = job.generation
    worker = spawn_worker(
        database=test_database, media=media_root, name="doomed", env={"EMBEDDING_BATCH_SIZE": "1"}, queues="doomed"
    )
    run_job_task.apply_async(args=[job.pk], queue="doomed")

    # when the worker is killed (SIGKILL, no clean-up) while it is building
    kill_mid_build(worker, generation)

    # then what it left is consistent: rows exactly for the products up to its chunk's cursor
    chunk = generation.build_chunks.get()  # 120 products: one chunk
    done = Product.objects.filter(id__lte=chunk.cursor).count()
    assert ProductEmbedding.objects.filter(generation=generation).count() == done == chunk.products

    # when the job runs again (as a redelivered task would)
    job_run(job=Job.objects.get(pk=job.pk))

    # then the chunk was taken over and resumed, every product has exactly one row, every photo exactly one, and
    # the generation is active
    chunk.refresh_from_db()
    assert chunk.state == "done" and chunk.attempts == 2 and chunk.products == 120
    assert_one_row_per_product_and_photo(generation)
    assert active_generation() == generation


@contextmanager
def consumers_cancelled(worker, queues: list[str]):
    """``worker`` takes nothing from ``queues`` during the block (the session's worker, here: a test's own worker
    with other settings is the one that must take the work)."""
    from shop_search.celery import app

    for queue in queues:
        assert app.control.cancel_consumer(queue, destination=[worker.hostname], reply=True)
    try:
        yield
    finally:
        for queue in queues:
            app.control.add_consumer(queue, destination=[worker.hostname], reply=True)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_build_whose_worker_is_killed_is_requeued_and_finished_by_a_new_worker_without_help(
    catalog_dir, test_database, media_root, session_worker, tmp_path
):
    from embeddings.tasks import run_job_task

    # given a build job sent to a worker (one product per transaction, a heartbeat every second)
    job = build_job_of_120_products(catalog_dir)
    generation = job.generation
    short = {"JOB_HEARTBEAT_SECONDS": "1", "JOB_STALL_SECONDS": "4"}
    queues = ["default", "embeddings", "reindex"]
    with consumers_cancelled(session_worker, queues):
        doomed = spawn_worker(database=test_database, media=media_root, name="doomed",
                              env={**short, "EMBEDDING_BATCH_SIZE": "1"}, queues="doomed")  # fmt: skip
        first_task = run_job_task.apply_async(args=[job.pk], queue="doomed").id
        Job.objects.filter(pk=job.pk).update(task_id=first_task)  # as job_start records it

        # when the worker is killed mid-build, and a new worker (with the periodic tasks) starts
        kill_mid_build(doomed, generation)
        killed = Job.objects.get(pk=job.pk)
        assert killed.state == Job.State.RUNNING and killed.heartbeat_at is not None
        rescuer = spawn_worker(database=test_database, media=media_root, name="rescuer", env=short,
                               queues=",".join(queues), args=("-B", "-s", str(tmp_path / "beat-schedule")))  # fmt: skip
        try:
            # then, long before the broker's visibility timeout (hours), the job is re-queued and finished
            deadline = time.monotonic() + 90
            while Job.objects.get(pk=job.pk).state not in (Job.State.DONE, Job.State.FAILED):
                assert time.monotonic() < deadline, "the killed worker's job was not finished within 90 s"
                time.sleep(0.2)
        finally:
            rescuer.stop()

    job.refresh_from_db()
    assert job.state == Job.State.DONE, job.error
    assert job.requeues == 1 and job.task_id != first_task
    assert_one_row_per_product_and_photo(generation)
    assert active_generation() == generation


def running_job(*, heartbeat_age: float | None, task_id: str = "task-1", **fields) -> Job:
    heartbeat = None if heartbeat_age is None else timezone.now() - timedelta(seconds=heartbeat_age)
    return Job.objects.create(state=Job.State.RUNNING, heartbeat_at=heartbeat, task_id=task_id,
                              **{"kind": Job.Kind.BUILD, **fields})  # fmt: skip


@contextmanager
def job_locked_elsewhere(job: Job):
    """Another database session holds the job's lock, as a process running it does."""
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [JOB_LOCK_NAMESPACE, job.pk])
        yield
        with other.cursor() as cursor:  # released now: a closed session's locks go only once its backend has exited
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [JOB_LOCK_NAMESPACE, job.pk])
    finally:
        other.close()


@pytest.mark.django_db
def test_a_stalled_worker_job_is_requeued_once(django_capture_on_commit_callbacks):
    job = running_job(heartbeat_age=120)

    with django_capture_on_commit_callbacks() as sends:
        first = jobs_requeue_stalled(stall_seconds=60, max_requeues=3)
        second = jobs_requeue_stalled(stall_seconds=60, max_requeues=3)

    assert first == {"requeued": [job.pk], "failed": []}
    assert second == {"requeued": [], "failed": []}
    assert len(sends) == 1  # its task is sent once, after commit
    job.refresh_from_db()
    assert job.state == Job.State.QUEUED and job.requeues == 1
    assert job.message.startswith("re-queued (1 of 3): no heartbeat for 60 s")


@pytest.mark.django_db
def test_a_job_with_a_heartbeat_or_a_live_runner_is_left_alone(django_capture_on_commit_callbacks):
    running_job(heartbeat_age=5)  # fresh
    locked = running_job(heartbeat_age=120)
    similar = running_job(heartbeat_age=None, kind=Job.Kind.SIMILAR)  # not run by job_run: no heartbeat
    Job.objects.filter(pk=similar.pk).update(updated_at=timezone.now() - timedelta(hours=1))

    with job_locked_elsewhere(locked), django_capture_on_commit_callbacks() as sends:
        outcome = jobs_requeue_stalled(stall_seconds=60, max_requeues=3)

    assert outcome == {"requeued": [], "failed": []} and sends == []
    assert set(Job.objects.values_list("state", "requeues")) == {(Job.State.RUNNING, 0)}


@pytest.mark.django_db
def test_a_stalled_job_past_its_requeues_or_run_in_the_foreground_is_failed(django_capture_on_commit_callbacks):
    generation = generation_create()
    worn_out = running_job(heartbeat_age=120, requeues=3, generation=generation)
    foreground = running_job(heartbeat_age=None, task_id="")
    Job.objects.filter(pk=foreground.pk).update(updated_at=timezone.now() - timedelta(minutes=5))

    with django_capture_on_commit_callbacks() as sends:
        outcome = jobs_requeue_stalled(stall_seconds=60, max_requeues=3)

    assert outcome == {"requeued": [], "failed": [worn_out.pk, foreground.pk]} and sends == []
    worn_out.refresh_from_db()
    foreground.refresh_from_db()
    assert worn_out.state == foreground.state == Job.State.FAILED and worn_out.finished_at is not None
    assert "after 3 re-queues" in worn_out.error and "JOB_MAX_REQUEUES" in worn_out.error
    assert "foreground" in foreground.error
    generation.refresh_from_db()
    assert generation.state == EmbeddingGeneration.State.FAILED and generation.error == worn_out.error


@pytest.mark.django_db
def test_a_job_runs_in_one_process_at_a_time_and_not_again_once_done(catalog_dir):
    catalog_import(path=write_small_catalog(catalog_dir, photos_per_product=1))
    job = job_start(kind=Job.Kind.BUILD, run_async=False)

    with job_locked_elsewhere(job):
        assert job_run(job=job) == f"job {job.pk} is already running in another process"
    job.refresh_from_db()
    assert job.state == Job.State.QUEUED and job.generation is None

    assert job_run(job=job).startswith("generation ")
    assert Job.objects.get(pk=job.pk).state == Job.State.DONE
    assert job_run(job=job) == f"nothing to do: job {job.pk} is done"
    assert EmbeddingGeneration.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_thread_stamps_the_running_job_and_closes_its_connection():
    job = running_job(heartbeat_age=None)

    def heartbeat_sessions() -> int:
        """Database sessions whose last statement was a heartbeat."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE %s",
                ['UPDATE "embeddings_job" SET "heartbeat_at"%'],
            )
            return cursor.fetchone()[0]

    with JobHeartbeat(job.pk, interval=0.05) as heartbeat:
        deadline = time.monotonic() + 10
        while Job.objects.get(pk=job.pk).heartbeat_at is None:
            assert time.monotonic() < deadline, "no heartbeat"
            time.sleep(0.05)
        assert heartbeat_sessions() == 1  # the thread's own connection
    assert not heartbeat._thread.is_alive()
    deadline = time.monotonic() + 10
    while heartbeat_sessions():
        assert time.monotonic() < deadline, "the heartbeat thread left its connection open"
        time.sleep(0.05)
