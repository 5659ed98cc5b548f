"""The vector storage budget: which HNSW indexes a generation keeps (its photo index layout), photo search through
one pooled vector per product with exact re-scoring of the candidates' photos, and what the vectors cost."""

from collections import Counter

import numpy as np
import pytest
from django.db import connection

from catalog.models import Product, ProductImage
from catalog.services import catalog_import
from embeddings.indexes import (
    LAYOUTS,
    code_lists,
    index_name,
    indexes_create,
    photo_code,
    photo_index_switch,
    storage_measure,
)
from embeddings.models import EmbeddingGeneration, ImageEmbedding, ProductEmbedding, TrainedHead
from embeddings.neural.head import AlignmentHead
from embeddings.queries import PhotoQuery
from search.candidates import photo_candidates
from search.documents import search_documents_update
from search.filters import Filters
from search.selectors import process_caches_clear
from search.types import SearchQuery

from .conftest import build_generation, write_small_catalog
from .factories import ProductFactory

pytestmark = pytest.mark.django_db


def photo_generation(
    photos: dict[str, list[list[float]]], *, layout: str, dim: int = 2, state: str = "active"
) -> EmbeddingGeneration:
    """A generation whose products have the given photo vectors (image space); each product's pooled image vector
    is the normalised mean of its photos, as ``products_embed`` makes it. Joint space = image space."""
    head = TrainedHead.objects.create(encoder_spec={}, weights=AlignmentHead.identity(dim).to_bytes(), joint_dim=dim)
    generation = EmbeddingGeneration.objects.create(
        state=state, encoder_spec={}, head=head, image_weight=0.5, text_weight=0.5, text_dim=dim,
        image_dim=dim, joint_dim=dim, photo_index=layout,
    )  # fmt: skip
    for sku, vectors in photos.items():
        product = ProductFactory(sku=sku)
        rows = np.array(vectors, dtype=np.float32)
        rows /= np.linalg.norm(rows, axis=1, keepdims=True)
        pooled = rows.mean(axis=0)
        pooled /= np.linalg.norm(pooled)
        ProductEmbedding.objects.create(
            generation=generation, product=product, text_vector=pooled, image_vector=pooled, aligned_text=pooled,
            aligned_image=pooled, fused=pooled, photo_count=len(rows), content_version=1,
        )  # fmt: skip
        for position, vector in enumerate(rows):
            image = ProductImage.objects.create(product=product, position=position, source=f"{sku}-{position}.jpg")
            ImageEmbedding.objects.create(
                generation=generation, image=image, product=product, vector=vector, aligned=vector
            )
    indexes_create(generation)
    search_documents_update()  # photo candidates come with their search documents
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE embeddings_productembedding; ANALYZE embeddings_imageembedding")
    return generation


def image_hits(generation: EmbeddingGeneration, vector) -> list[tuple[str, float]]:
    """The photo signal's candidates of a photo query: (sku, cosine of the product's best photo), best first."""
    query = PhotoQuery(image_vector=np.asarray(vector, dtype=np.float32), joint_vector=None)
    hits = photo_candidates(generation, SearchQuery(photo=query)).vectors.get("image", [])
    skus = dict(Product.objects.values_list("id", "sku"))
    return [(skus[hit.product_id], round(hit.score, 3)) for hit in hits]


# A has a photo exactly like the query and one unlike it: its pooled (mean) vector ranks it below B, whose one photo
# is near the query. Query [0, 1]: best photos A 1.0, B 0.8, C 0.6; pooled vectors B 0.8, A 0.707, C 0.6.
SHOP = {"A": [[0, 1], [1, 0]], "B": [[0.6, 0.8]], "C": [[0.8, 0.6]]}


def test_photo_search_rescores_the_pooled_candidates_by_their_best_photo(settings):
    # given a generation with one pooled photo vector per product in its index
    generation = photo_generation(SHOP, layout="product")

    # when every product is a candidate
    settings.SEARCH_PHOTO_RESCORE_PRODUCTS = 3
    # then each is scored by its best photo, exactly: A's matching photo puts it first though its mean is second
    assert image_hits(generation, [0, 1]) == [("A", 1.0), ("B", 0.8), ("C", 0.6)]

    # when only the two nearest products by pooled vector are candidates (B, then A), C is not read at all
    settings.SEARCH_PHOTO_RESCORE_PRODUCTS = 2
    assert image_hits(generation, [0, 1]) == [("A", 1.0), ("B", 0.8)]
    settings.SEARCH_PHOTO_RESCORE_PRODUCTS = 1
    assert image_hits(generation, [0, 1]) == [("B", 0.8)]


def test_a_generation_with_an_index_over_every_photo_reads_its_photos_through_it(settings):
    # given a generation built before the budget: an HNSW index over every photo
    generation = photo_generation(SHOP, layout="photo")
    settings.SEARCH_PHOTO_RESCORE_PRODUCTS = 1  # not used by this layout

    # then photo search ranks the products by their best photo, read from that index
    assert image_hits(generation, [0, 1]) == [("A", 1.0), ("B", 0.8), ("C", 0.6)]


def test_each_layout_keeps_its_indexes_and_a_generation_switches_without_a_rebuild(settings):
    generation = photo_generation(SHOP, layout="photo")
    assert existing_indexes(generation) == {"fused", "aligned_image", "text_vector", "image_vector", "photo"}
    settings.SEARCH_PHOTO_RESCORE_PRODUCTS = 3

    dropped = photo_index_switch(generation, "product")

    # then the index over every photo is gone, and search reads the pooled vectors
    assert dropped == [index_name(generation.pk, "photo")]
    assert existing_indexes(generation) == {"fused", "aligned_image", "text_vector", "image_vector"}
    generation.refresh_from_db()
    assert generation.photo_index == "product"
    assert image_hits(generation, [0, 1]) == [("A", 1.0), ("B", 0.8), ("C", 0.6)]

    assert photo_index_switch(generation, "photo") == []
    assert existing_indexes(generation) == set(LAYOUTS["photo"])


def test_a_generation_built_before_the_layouts_keeps_working_and_sheds_what_no_query_reads(settings):
    # given a generation of the layout before: an index on every vector column, the photos' joint vectors too
    generation = photo_generation(SHOP, layout="photo")
    with connection.cursor() as cursor:
        for name, column in (("aligned_text", "aligned_text"), ("photo_aligned", "aligned")):
            table = "embeddings_productembedding" if name == "aligned_text" else "embeddings_imageembedding"
            cursor.execute(
                f"CREATE INDEX {index_name(generation.pk, name)} ON {table} USING hnsw "
                f"(({column}::halfvec(2)) halfvec_cosine_ops) WHERE generation_id = {generation.pk}"
            )
    settings.SEARCH_PHOTO_RESCORE_PRODUCTS = 1  # not used: photo search reads the index over every photo

    assert image_hits(generation, [0, 1]) == [("A", 1.0), ("B", 0.8), ("C", 0.6)]

    # when it is switched to one pooled vector per product, every index that layout does not name goes
    settings.SEARCH_PHOTO_RESCORE_PRODUCTS = 3
    dropped = photo_index_switch(generation, "product")
    assert sorted(dropped) == sorted(index_name(generation.pk, n) for n in ("aligned_text", "photo", "photo_aligned"))
    assert image_hits(generation, [0, 1]) == [("A", 1.0), ("B", 0.8), ("C", 0.6)]


def test_a_new_generation_takes_the_layout_of_the_setting(settings):
    fields = generation_fields()
    settings.EMBEDDING_PHOTO_INDEX = "product"
    assert EmbeddingGeneration.objects.create(**fields).photo_index == "product"
    settings.EMBEDDING_PHOTO_INDEX = "photo"
    assert EmbeddingGeneration.objects.create(**fields).photo_index == "photo"
    settings.EMBEDDING_PHOTO_INDEX = "binary"
    assert EmbeddingGeneration.objects.create(**fields).photo_index == "binary"


def test_the_automatic_layout_indexes_every_photo_up_to_a_number_of_photos(settings, catalog_dir):
    fields = generation_fields()
    catalog_import(path=write_small_catalog(catalog_dir))
    photos = ProductImage.objects.count()
    settings.EMBEDDING_PHOTO_INDEX = "auto"

    settings.EMBEDDING_PHOTO_INDEX_AUTO_MAX_PHOTOS = photos
    assert EmbeddingGeneration.objects.create(**fields).photo_index == "photo"
    settings.EMBEDDING_PHOTO_INDEX_AUTO_MAX_PHOTOS = photos - 1
    assert EmbeddingGeneration.objects.create(**fields).photo_index == "binary"


def test_storage_counts_the_generations_indexes_and_its_share_of_the_vector_tables():
    generation = photo_generation(SHOP, layout="product")
    other = photo_generation({"D": [[1, 0]], "E": [[0, 1]]}, layout="photo", state="ready")

    storage = storage_measure(generation)

    assert (storage.products, storage.photos, storage.photo_index) == (3, 4, "product")
    assert set(storage.indexes) == {"fused", "aligned_image", "text_vector", "image_vector"}
    assert all(size >= 8192 for size in storage.indexes.values())  # at least a page each
    assert set(storage_measure(other).indexes) == {*storage.indexes, "photo"}
    # the tables are shared by the generations: each is counted its share of the rows
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_table_size('embeddings_imageembedding')")
        photos_table = cursor.fetchone()[0]
    assert storage.tables["embeddings_imageembedding"] == round(photos_table * 4 / 6)
    assert storage.per_product(storage.index_bytes) == storage.index_bytes / 3


def test_pooled_candidates_find_the_exact_best_photos_of_a_larger_catalog(settings):
    # given 400 products with 1-3 photos each, 16-d, in clusters, a product's photos far apart (views): ranked by
    # their pooled vectors alone the top 10 would hold only 0.75 of the exact top 10 by best photo
    rng = np.random.default_rng(7)
    centres = rng.normal(size=(20, 16))
    photos = {}
    for i in range(400):
        base = centres[i % 20] + 0.5 * rng.normal(size=16)
        photos[f"P{i:03d}"] = (base + 0.8 * rng.normal(size=(int(rng.integers(1, 4)), 16))).tolist()
    generation = photo_generation(photos, layout="product", dim=16)
    settings.SEARCH_VECTOR_CANDIDATES = 10
    settings.SEARCH_PHOTO_RESCORE_PRODUCTS = 100  # a quarter of the catalog
    every = [(sku, np.array(v) / np.linalg.norm(v)) for sku, vectors in photos.items() for v in vectors]

    found = 0
    for query in rng.normal(size=(20, 16)) + centres[rng.integers(0, 20, size=20)]:
        query /= np.linalg.norm(query)
        best: dict[str, float] = {}
        for sku, vector in every:
            best[sku] = max(best.get(sku, -1.0), float(vector @ query))
        exact = sorted(best, key=lambda sku: -best[sku])[:10]
        found += len({sku for sku, _ in image_hits(generation, query)[:10]} & set(exact))

    # then the top 10 by best photo are (nearly) those of an exact scan over every photo
    assert found / 200 >= 0.97


def test_photo_search_through_binary_codes_scores_the_nearest_photos_exactly(settings):
    # given a generation whose photos are indexed by their binary codes
    generation = photo_generation(SHOP, layout="binary")

    # when every photo is read from the index of codes, they are ranked by their exact cosine: the exact ranking
    settings.SEARCH_PHOTO_RESCORE_PHOTOS = 4
    assert image_hits(generation, [0, 1]) == [("A", 1.0), ("B", 0.8), ("C", 0.6)]


def test_the_binary_layout_indexes_every_photos_code_in_ivfflat_lists_by_hamming_distance():
    generation = photo_generation(SHOP, layout="binary")

    assert existing_indexes(generation) == {"fused", "aligned_image", "text_vector", "image_vector", "photo_code"}
    with connection.cursor() as cursor:
        name = index_name(generation.pk, "photo_code")
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [name])
        (definition,) = cursor.fetchone()
    assert "USING ivfflat" in definition and "bit_hamming_ops" in definition and "lists='1'" in definition
    assert "(code)::bit(" in definition and f"generation_id = {generation.pk}" in definition
    # on the code each row keeps, written with the row: its vector's photo_code_v2, after an update too
    ImageEmbedding.objects.filter(generation=generation).update(vector=[0.5, -1.0])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), bool_and(code = photo_code_v2(vector)) FROM embeddings_imageembedding "
            "WHERE generation_id = %s",
            [generation.pk],
        )
        assert cursor.fetchone() == (ImageEmbedding.objects.filter(generation=generation).count(), True)
    storage = storage_measure(generation)
    assert set(storage.indexes) == {"fused", "aligned_image", "text_vector", "image_vector", "photo_code"}
    # and a larger catalog's codes get a list per 1,000 of them, up to 1,000,000 codes, the square root beyond
    assert [code_lists(n) for n in (0, 999, 64_408, 1_000_000, 3_000_000)] == [1, 1, 64, 1000, 1732]


def test_the_sql_photo_code_is_the_documented_one():
    # photo_code_v2 (migration 0011) and its numpy twin give the same bits, three a dimension, at any dimensions,
    # and the first third is photo_code_v1's (migration 0008)
    rng = np.random.default_rng(3)
    with connection.cursor() as cursor:
        for dim in (2, 16, 1408):
            vectors = rng.normal(size=(5, dim)).astype(np.float32) + 0.3
            for vector in vectors:
                literal = "[" + ",".join(map(str, vector)) + "]"
                cursor.execute("SELECT photo_code_v2(%s::vector)::text, photo_code_v1(%s::vector)::text", [literal] * 2)
                code, first = cursor.fetchone()
                assert code == "".join("1" if bit else "0" for bit in photo_code(vector)[0])
                assert len(code) == 3 * dim and code[:dim] == first


def test_binary_codes_find_the_exact_best_photos_of_a_larger_catalog(settings):
    # given 300 products with 1-3 photos each (590 photos), 512-d, in clusters, photos indexed by binary code
    rng = np.random.default_rng(7)
    dim = 512
    centres = rng.normal(size=(20, dim))
    photos = {}
    for i in range(300):
        base = centres[i % 20] + 0.5 * rng.normal(size=dim)
        photos[f"P{i:03d}"] = (base + 0.8 * rng.normal(size=(int(rng.integers(1, 4)), dim))).tolist()
    generation = photo_generation(photos, layout="binary", dim=dim)
    settings.SEARCH_VECTOR_CANDIDATES = 10
    every = [(sku, np.array(v) / np.linalg.norm(v)) for sku, vectors in photos.items() for v in vectors]

    found, equal = 0, 0
    for query in rng.normal(size=(20, dim)) + centres[rng.integers(0, 20, size=20)]:
        query /= np.linalg.norm(query)
        best: dict[str, float] = {}
        for sku, vector in every:
            best[sku] = max(best.get(sku, -1.0), float(vector @ query))
        exact = sorted(best, key=lambda sku: -best[sku])[:10]
        # when a sixth of the photos are re-scored, the top 10 are (nearly) those of an exact scan
        settings.SEARCH_PHOTO_RESCORE_PHOTOS = 100
        found += len({sku for sku, _ in image_hits(generation, query)[:10]} & set(exact))
        # when every photo is, they are exactly those, in the same order
        settings.SEARCH_PHOTO_RESCORE_PHOTOS = len(every)
        equal += [sku for sku, _ in image_hits(generation, query)[:10]] == exact

    assert found / 200 >= 0.97
    assert equal == 20


def test_a_built_binary_generation_finds_what_an_exact_scan_finds(api, settings, catalog_dir):
    # given the small catalog built into a generation with binary photo codes
    settings.EMBEDDING_PHOTO_INDEX = "binary"
    catalog_import(path=write_small_catalog(catalog_dir))
    generation = build_generation()
    assert generation.photo_index == "binary"
    assert existing_indexes(generation) == set(LAYOUTS["binary"])
    # uncalibrated (thresholds 0.5): the tiny test encoders' photo thresholds reach 1.0, which nothing passes
    EmbeddingGeneration.objects.filter(pk=generation.pk).update(relevance={})
    generation.refresh_from_db()
    vectors = list(ImageEmbedding.objects.filter(generation=generation).values_list("vector", flat=True))
    outdoor = Filters(category="Outdoor")

    def hits(query_filters: Filters) -> list[list[tuple[int, float]]]:
        """Each photo's own vector as the query: the photo signal's products and their best photo's cosine."""
        found = []
        for vector in vectors:
            photo = PhotoQuery(image_vector=np.asarray(vector), joint_vector=None)
            signal = photo_candidates(generation, SearchQuery(photo=photo, filters=query_filters)).vectors
            found.append([(hit.product_id, hit.score) for hit in signal.get("image", [])])
        return found

    def uploaded() -> list[str]:
        """The API's answer to an upload of a catalog photo."""
        image = ProductImage.objects.exclude(file="").order_by("id").first()
        response = api.post("/api/v1/search/image?page_size=8", {"image": _upload(image.file.read())})
        assert response.status_code == 200, response.content
        return [item["sku"] for item in response.json()["results"]]

    binary, binary_upload = hits(Filters()) + hits(outdoor), uploaded()
    assert all(binary[: len(vectors)]) and any(binary[len(vectors) :]) and binary_upload

    # when it switches to one pooled vector per product with every product's photos re-scored: an exact scan
    settings.SEARCH_PHOTO_RESCORE_PRODUCTS = 1000
    photo_index_switch(generation, "product")
    process_caches_clear()

    # then every query finds the same products with the same best-photo cosine, and the API answers the same
    assert hits(Filters()) + hits(outdoor) == binary
    assert uploaded() == binary_upload


def _upload(data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("photo.jpg", data, content_type="image/jpeg")


def test_a_generation_switches_to_and_from_binary_photo_codes(settings):
    generation = photo_generation(SHOP, layout="photo")
    settings.SEARCH_PHOTO_RESCORE_PHOTOS = 4

    # when it switches to binary codes, the index over every photo's vector goes and the codes' index comes
    assert photo_index_switch(generation, "binary") == [index_name(generation.pk, "photo")]
    assert existing_indexes(generation) == set(LAYOUTS["binary"])
    generation.refresh_from_db()
    assert generation.photo_index == "binary"
    assert image_hits(generation, [0, 1]) == [("A", 1.0), ("B", 0.8), ("C", 0.6)]

    # and back to one pooled vector per product, the codes' index goes
    settings.SEARCH_PHOTO_RESCORE_PRODUCTS = 3
    assert photo_index_switch(generation, "product") == [index_name(generation.pk, "photo_code")]
    assert existing_indexes(generation) == set(LAYOUTS["product"])
    assert image_hits(generation, [0, 1]) == [("A", 1.0), ("B", 0.8), ("C", 0.6)]


def generation_fields() -> dict:
    """What a 2-d generation needs besides its photo index layout."""
    head = TrainedHead.objects.create(encoder_spec={}, weights=AlignmentHead.identity(2).to_bytes(), joint_dim=2)
    return {"encoder_spec": {}, "head": head, "image_weight": 0.5, "text_weight": 0.5, "text_dim": 2,
            "image_dim": 2, "joint_dim": 2}  # fmt: skip


def existing_indexes(generation: EmbeddingGeneration) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE %s", [f"emb_g{generation.pk}_%"])
        return {row[0].removeprefix(f"emb_g{generation.pk}_") for row in cursor.fetchall()}


def test_the_vectors_a_search_reads_per_candidate_stay_in_the_row_and_the_others_go_to_toast():
    # given a photo with EfficientNet-lite2's 1,408 dimensions (2.8 KB a vector at half precision, past the 2 KB at
    # which PostgreSQL moves a row's values out) and a product with 384-d text, 256-d joint and a 1,408-d pooled
    # photo vector
    rng = np.random.default_rng(3)
    head = TrainedHead.objects.create(encoder_spec={}, weights=AlignmentHead.identity(2).to_bytes(), joint_dim=256)
    generation = EmbeddingGeneration.objects.create(
        state="building", encoder_spec={}, head=head, image_weight=0.5, text_weight=0.5, text_dim=384,
        image_dim=1408, joint_dim=256, photo_index="binary",
    )  # fmt: skip
    product = ProductFactory(sku="A")
    image = ProductImage.objects.create(product=product, position=0, source="a.jpg")
    photo = ImageEmbedding.objects.create(
        generation=generation, image=image, product=product, vector=rng.normal(size=1408), aligned=rng.normal(size=256)
    )  # fmt: skip
    vectors = ProductEmbedding.objects.create(
        generation=generation, product=product, text_vector=rng.normal(size=384), image_vector=rng.normal(size=1408),
        aligned_text=rng.normal(size=256), aligned_image=rng.normal(size=256), fused=rng.normal(size=256),
        photo_count=1, content_version=1,
    )  # fmt: skip

    def moved_out(table: str, pk: int, columns: list[str]) -> dict[str, bool]:
        # a value moved to TOAST has the id of its chunks there (PostgreSQL 17+)
        with connection.cursor() as cursor:
            chunks = ", ".join(f"pg_column_toast_chunk_id({column}) IS NOT NULL" for column in columns)
            cursor.execute(f"SELECT {chunks} FROM {table} WHERE id = %s", [pk])
            return dict(zip(columns, cursor.fetchone(), strict=True))

    # then the photo's vector (re-scored by every photo search), its joint vector and its binary code (read for
    # every photo the codes' index returns) are in the row
    assert moved_out("embeddings_imageembedding", photo.pk, ["vector", "aligned", "code"]) == {
        "vector": False, "aligned": False, "code": False,
    }  # fmt: skip
    # and the product's text, fused and aligned image vectors (scored for every text search candidate) too, while
    # its pooled photo vector (read by no search per candidate) is moved out
    assert moved_out(
        "embeddings_productembedding", vectors.pk, ["text_vector", "fused", "aligned_image", "image_vector"]
    ) == {"text_vector": False, "fused": False, "aligned_image": False, "image_vector": True}


def _binary_generation(image_dim: int = 1408, joint_dim: int = 256) -> EmbeddingGeneration:
    head = TrainedHead.objects.create(
        encoder_spec={}, weights=AlignmentHead.identity(2).to_bytes(), joint_dim=joint_dim
    )
    return EmbeddingGeneration.objects.create(
        state="building", encoder_spec={}, head=head, image_weight=0.5, text_weight=0.5, text_dim=384,
        image_dim=image_dim, joint_dim=joint_dim, photo_index="binary",
    )  # fmt: skip


def _photo_rows(generation: EmbeddingGeneration) -> list[tuple[int, str, int]]:
    """(id, code, page) of the generation's photo rows."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, code::text, (ctid::text::point)[0]::int FROM embeddings_imageembedding "
            "WHERE generation_id = %s ORDER BY id",
            [generation.pk],
        )
        return cursor.fetchall()


def test_photo_vectors_are_stored_at_half_precision_two_rows_to_a_page_with_the_code_of_the_stored_vector():
    # given 8 photos with 1,408-d vectors and 256-d joint vectors
    rng = np.random.default_rng(11)
    generation = _binary_generation()
    product = ProductFactory(sku="A")
    vectors = rng.normal(size=(8, 1408)).astype(np.float32)
    for i, vector in enumerate(vectors):
        image = ProductImage.objects.create(product=product, position=i, source=f"{i}.jpg")
        ImageEmbedding.objects.create(
            generation=generation, image=image, product=product, vector=vector, aligned=rng.normal(size=256)
        )
    # then each reads back as its 16-bit rounding, in floats
    stored = list(ImageEmbedding.objects.filter(generation=generation).order_by("id").values_list("vector", flat=True))
    assert all(isinstance(value, list) for value in stored)
    assert np.array_equal(np.array(stored, dtype=np.float32), vectors.astype(np.float16).astype(np.float32))
    assert not np.array_equal(np.array(stored, dtype=np.float32), vectors)
    rows = _photo_rows(generation)
    # and two rows share a page (a row in single precision took a page of its own)
    assert max(Counter(page for _id, _code, page in rows).values()) == 2
    # and the binary code is that of the stored vector
    codes = photo_code(np.array(stored, dtype=np.float32))
    assert [code for _id, code, _page in rows] == ["".join("1" if bit else "0" for bit in row) for row in codes]


@pytest.mark.django_db(transaction=True)
def test_the_half_precision_migration_converts_the_stored_photos_and_rebuilds_their_codes_index():
    from django.db.migrations.executor import MigrationExecutor

    before, after = (
        [("embeddings", "0010_vectors_stored_inline")],
        [("embeddings", "0011_photo_vectors_half_precision")],
    )
    rng = np.random.default_rng(12)
    vectors = rng.normal(size=(3, 64)).astype(np.float32)
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        # given photos of a binary generation written in single precision, before the migration
        generation = _binary_generation(image_dim=64, joint_dim=8)
        product = ProductFactory(sku="A")
        with connection.cursor() as cursor:
            for i, vector in enumerate(vectors):
                image = ProductImage.objects.create(product=product, position=i, source=f"{i}.jpg")
                cursor.execute(
                    "INSERT INTO embeddings_imageembedding (generation_id, image_id, product_id, vector, aligned) "
                    "VALUES (%s, %s, %s, %s::vector, NULL)",
                    [generation.pk, image.pk, product.pk, "[" + ",".join(map(str, vector)) + "]"],
                )
        indexes_create(generation)
        assert "photo_code" in existing_indexes(generation)
        with connection.cursor() as cursor:
            cursor.execute("SELECT vector::text FROM embeddings_imageembedding ORDER BY id")
            exact = np.array([row[0].strip("[]").split(",") for row in cursor.fetchall()], dtype=np.float32)
        assert np.array_equal(exact, vectors)
        # when the migration runs
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        # then the vectors are their 16-bit rounding, each code that of its stored vector, and the codes indexed
        stored = np.array(
            list(ImageEmbedding.objects.filter(generation=generation).order_by("id").values_list("vector", flat=True)),
            dtype=np.float32,
        )
        assert np.array_equal(stored, vectors.astype(np.float16).astype(np.float32))
        codes = ["".join("1" if bit else "0" for bit in row) for row in photo_code(stored)]
        assert [code for _id, code, _page in _photo_rows(generation)] == codes
        assert "photo_code" in existing_indexes(generation)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT attname, attstorage FROM pg_attribute WHERE attrelid = 'embeddings_imageembedding'::regclass "
                "AND attname IN ('vector', 'aligned', 'code') ORDER BY attname"
            )
            assert cursor.fetchall() == [("aligned", "m"), ("code", "m"), ("vector", "m")]
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(after)
