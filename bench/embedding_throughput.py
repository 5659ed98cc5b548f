"""Embedding throughput: the full pipeline next to the raw encoder forward pass on the same inputs.

    python bench/embedding_throughput.py [--catalog ../shared/datasets/luma-dev] [--repeat 2]

Pipeline = what a worker does per batch of products: read the product rows, read each stored photo, decode
(EXIF, RGB), preprocess, encode photos and texts, project through the head, fuse, and write the rows.
Raw = the encoders alone on the same photos (already decoded and preprocessed) and the same texts.
Target: pipeline time within 85% efficiency of raw (raw time / pipeline time >= 0.85).
"""

import argparse
import time
from pathlib import Path

from _setup import ROOT, django_setup, peak_rss_mb, scratch_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--catalog", type=Path, default=ROOT.parent / "shared" / "datasets" / "luma-dev")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved passes; the best of each is reported")
    args = parser.parse_args()
    django_setup()

    import torch
    from django.conf import settings
    from django.core.files.storage import default_storage

    from catalog.models import Product
    from catalog.services import catalog_import
    from embeddings.selectors import product_contents
    from embeddings.services.embedding import generation_models, products_embed
    from embeddings.services.generations import generation_create
    from embeddings.texts import product_document

    with scratch_database("embedding_throughput"):
        catalog_import(path=args.catalog)
        generation = generation_create()
        encoders, head = generation_models(generation)
        ids = list(Product.objects.order_by("id").values_list("id", flat=True))
        contents = [content for content, _ in product_contents(ids)]
        files = [photo.file for content in contents for photo in content.photos]
        documents = [product_document(content) for content in contents]
        print(
            f"{len(ids)} products, {len(files)} photos, {len(documents)} texts; encoders {encoders.spec.label()}; "
            f"torch threads {torch.get_num_threads()}; batch {settings.EMBEDDING_BATCH_SIZE} products"
        )

        # Inputs of the raw passes, prepared beforehand (not timed).
        tensors = []
        for name in files:
            with default_storage.open(name, "rb") as handle:
                image = encoders.image.decode(handle.read())
            tensors.append(encoders.image.preprocess(image))
        batches = [torch.stack(tensors[start : start + 16]) for start in range(0, len(tensors), 16)]
        batch = settings.EMBEDDING_BATCH_SIZE

        def raw_photos() -> None:
            for images in batches:
                encoders.image.forward(images)

        def raw_texts() -> None:
            encoders.text.encode_texts(documents)

        def pipeline() -> None:
            for start in range(0, len(ids), batch):
                products_embed(generation=generation, product_ids=ids[start : start + batch])

        # Interleaved passes, best of each: the machine's speed drifts, and each side gets the same conditions.
        timings: dict[str, list[float]] = {"photos": [], "texts": [], "pipeline": []}
        products_embed(generation=generation, product_ids=ids[:4])  # warm-up
        for _ in range(args.repeat):
            for name, run in (("photos", raw_photos), ("texts", raw_texts), ("pipeline", pipeline)):
                started = time.perf_counter()
                run()
                timings[name].append(time.perf_counter() - started)
        raw_photo_seconds, raw_text_seconds, pipeline_seconds = (
            min(timings[k]) for k in ("photos", "texts", "pipeline")
        )

        raw_seconds = raw_photo_seconds + raw_text_seconds
        photos, texts = len(files), len(documents)
        print(
            f"raw encoders:  photos {photos / raw_photo_seconds:7.1f}/s  texts {texts / raw_text_seconds:7.1f}/s"
            f"  ({raw_seconds:.2f} s per pass)"
        )
        print(
            f"full pipeline: photos {photos / pipeline_seconds:7.1f}/s  texts {texts / pipeline_seconds:7.1f}/s"
            f"  products {len(ids) / pipeline_seconds:.1f}/s  ({pipeline_seconds:.2f} s per pass, both modalities)"
        )
        efficiency = raw_seconds / pipeline_seconds
        print(f"pipeline efficiency (raw time / pipeline time): {efficiency:.0%}  (target >= 85%)")
        print(f"peak memory of this process (what a worker needs): {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
