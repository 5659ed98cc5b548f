"""Embedding products: photos and texts through the encoders and the head, into one generation's rows.

A batch is written in one transaction with an upsert on (generation, product), so a worker killed half way
leaves either the old rows or the new ones, never both, and re-running a batch is harmless.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from PIL import Image, UnidentifiedImageError

from catalog.models import ProductImage
from catalog.photos import PhotoError

from ..models import EmbeddingGeneration, ImageEmbedding, ProductEmbedding
from ..neural.encoders import Encoders, EncoderSpec, l2_normalize, load_encoders, set_threads
from ..neural.head import AlignmentHead
from ..selectors import product_contents
from ..texts import product_document

logger = logging.getLogger(__name__)


@dataclass
class EmbedResult:
    products: int = 0
    photos: int = 0
    photo_errors: int = 0
    versions: dict[int, int] = field(default_factory=dict)  # product id -> content version embedded


@functools.cache
def load_head(head_id: int) -> AlignmentHead:
    """A trained head by id, loaded once per process (heads never change once stored)."""
    from ..models import TrainedHead

    return AlignmentHead.from_bytes(bytes(TrainedHead.objects.values_list("weights", flat=True).get(pk=head_id)))


def generation_models(generation: EmbeddingGeneration) -> tuple[Encoders, AlignmentHead]:
    return load_encoders(EncoderSpec.from_dict(generation.encoder_spec)), load_head(generation.head_id)


def read_photo(name: str, encoders: Encoders) -> Image.Image:
    """A stored photo, decoded for ``encoders``; ``PhotoError`` says what is wrong with it."""
    try:
        with default_storage.open(name, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise PhotoError(f"stored photo unreadable: {exc.strerror or exc}") from None
    try:
        return encoders.image.decode(data)
    except UnidentifiedImageError:
        raise PhotoError("not an image (or an image type Pillow cannot read)") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise PhotoError(f"corrupt or truncated image: {exc}") from None


def products_embed(*, generation: EmbeddingGeneration, product_ids: list[int]) -> EmbedResult:
    """Compute and store the vectors of these products in ``generation`` (text only when no photo is usable)."""
    result = EmbedResult()
    contents = product_contents(product_ids)
    if not contents:
        return result
    encoders, head = generation_models(generation)
    set_threads(settings.EMBEDDING_TORCH_THREADS)

    photos, owners, failed = [], [], {}
    for index, (content, _version) in enumerate(contents):
        for photo in content.photos:
            try:
                photos.append(read_photo(photo.file, encoders))
                owners.append((index, photo.image_id))
            except PhotoError as exc:
                failed[photo.image_id] = f"embedding: {exc}"
    for image_id, error in failed.items():
        ProductImage.objects.filter(pk=image_id).update(error=error[:2000])
    result.photo_errors = len(failed)

    raw_images = encoders.image.encode_images(photos)
    aligned_images = None if head.text_only else head.project(raw_images, "image")
    raw_texts = encoders.text.encode_texts([product_document(content) for content, _ in contents])
    aligned_texts = head.project(raw_texts, "text")

    product_rows, image_rows = [], []
    for index, (content, version) in enumerate(contents):
        mine = [i for i, (owner, _) in enumerate(owners) if owner == index]
        image_vector = aligned_image = None
        fused = aligned_texts[index]
        if mine:
            image_vector = l2_normalize(raw_images[mine].mean(axis=0, keepdims=True))[0]
        if mine and aligned_images is not None:
            aligned_image = l2_normalize(aligned_images[mine].mean(axis=0, keepdims=True))[0]
            fused = l2_normalize(
                (generation.image_weight * aligned_image + generation.text_weight * aligned_texts[index])[None, :]
            )[0]
        product_rows.append(
            ProductEmbedding(
                generation=generation,
                product_id=content.id,
                text_vector=raw_texts[index],
                image_vector=image_vector,
                aligned_text=aligned_texts[index],
                aligned_image=aligned_image,
                fused=fused,
                photo_count=len(mine),
                content_version=version,
            )
        )
        image_rows += [
            ImageEmbedding(
                generation=generation,
                image_id=owners[i][1],
                product_id=content.id,
                vector=raw_images[i],
                aligned=None if aligned_images is None else aligned_images[i],
            )
            for i in mine
        ]
        result.versions[content.id] = version

    with transaction.atomic():
        ProductEmbedding.objects.bulk_create(
            product_rows,
            update_conflicts=True,
            unique_fields=["generation", "product"],
            update_fields=[
                "text_vector", "image_vector", "aligned_text", "aligned_image", "fused", "photo_count",
                "content_version", "updated_at",
            ],
        )  # fmt: skip
        # Upserts on both tables: a build batch and a stale batch may embed the same product at the same time.
        ImageEmbedding.objects.filter(generation=generation, product_id__in=result.versions).exclude(
            image_id__in=[row.image_id for row in image_rows]
        ).delete()
        ImageEmbedding.objects.bulk_create(
            image_rows,
            update_conflicts=True,
            unique_fields=["generation", "image"],
            update_fields=["product", "vector", "aligned"],
        )
    result.products = len(product_rows)
    result.photos = len(image_rows)
    return result
