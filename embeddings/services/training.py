"""Training the alignment head on the catalog's own photo/text pairs."""

from __future__ import annotations

import logging
from dataclasses import asdict

import numpy as np
from django.conf import settings

from catalog.models import Product, ProductImage
from catalog.photos import PhotoError

from ..models import TrainedHead
from ..neural.encoders import Encoders, EncoderSpec, load_encoders, set_threads
from ..neural.head import AlignmentHead, HeadConfig, TrainingData, train_head
from ..selectors import product_contents
from ..texts import training_texts
from .embedding import read_photo
from .jobs import JobProgress

logger = logging.getLogger(__name__)

# Products read per query while collecting training pairs.
CONTENT_CHUNK = 500


def spec_from_settings() -> EncoderSpec:
    return EncoderSpec(
        backend=settings.EMBEDDING_BACKEND,
        text=settings.EMBEDDING_TEXT_MODEL,
        image=settings.EMBEDDING_IMAGE_MODEL,
        clip_model=settings.EMBEDDING_CLIP_MODEL,
        clip_loader=settings.EMBEDDING_CLIP_LOADER,
        image_fit=settings.EMBEDDING_IMAGE_FIT,
        image_colour=settings.EMBEDDING_IMAGE_COLOUR if settings.EMBEDDING_BACKEND == "default" else 0.0,
    )


def head_config_from_settings(**overrides) -> HeadConfig:
    return HeadConfig(**{"joint_dim": settings.EMBEDDING_JOINT_DIM, **overrides})


def latest_head(spec: EncoderSpec) -> TrainedHead | None:
    """The latest head trained for ``spec``; a text-only head only while the catalog still has too few photos to
    train one (once it has enough, the next build trains a real head)."""
    head = TrainedHead.objects.filter(encoder_spec=spec.as_dict()).order_by("-created_at", "-id").first()
    if head is not None and head.text_only and usable_photo_count() >= settings.EMBEDDING_MIN_TRAINING_PHOTOS:
        return None
    return head


def usable_photo_count() -> int:
    """Photos of the catalog that were stored without an error (the ones training and embedding can read)."""
    return ProductImage.objects.filter(error="").exclude(file="").count()


def text_only_head(spec: EncoderSpec, *, reason: str) -> TrainedHead:
    """The head of a catalog with too few photos to learn an alignment (``EMBEDDING_MIN_TRAINING_PHOTOS``): the
    joint space is the text encoder's own. Text vectors, full text and the photos' own image-space vectors still
    work; cross-modal search and photo-to-joint-space matching do not exist in such a generation."""
    encoders = load_encoders(spec)
    logger.warning("no alignment head trained: %s; the generation's joint space is the text space", reason)
    return TrainedHead.objects.create(
        encoder_spec=spec.as_dict(),
        config={"text_only": True, "joint_dim": encoders.text.dim},
        report={"text_only": True, "reason": reason},
        weights=AlignmentHead.text_identity(encoders.text.dim, encoders.image.dim).to_bytes(),
        joint_dim=encoders.text.dim,
    )


def training_data_collect(encoders: Encoders, progress: JobProgress) -> TrainingData:
    """Encoder features of every usable photo and of the texts it is paired with, grouped by product."""
    ids = list(Product.objects.order_by("id").values_list("id", flat=True))
    photos, photo_groups, photo_texts = [], [], []
    group_of: dict[int, int] = {}
    progress.start(total=len(ids), message="reading photos and texts")
    for start in range(0, len(ids), CONTENT_CHUNK):
        for content, _version in product_contents(ids[start : start + CONTENT_CHUNK]):
            for photo in content.photos:
                try:
                    image = read_photo(photo.file, encoders)
                except PhotoError as exc:
                    logger.warning("training skips photo %s of %s: %s", photo.image_id, content.sku, exc)
                    continue
                group = group_of.setdefault(content.id, len(group_of))
                photos.append(image)
                photo_groups.append(group)
                photo_texts.append(training_texts(content, photo))
        progress.advance(min(len(ids), start + CONTENT_CHUNK))

    # Each distinct (product, text) pair is one text row; the encoder sees each distinct text once.
    rows: dict[tuple[int, str], int] = {}
    texts_of_image = []
    for group, texts in zip(photo_groups, photo_texts, strict=True):
        texts_of_image.append([rows.setdefault((group, text), len(rows)) for text in texts])
    distinct = sorted({text for _group, text in rows})
    progress.start(total=len(distinct) + len(photos), message="encoding photos and texts")
    text_index = {text: i for i, text in enumerate(distinct)}
    text_features = encoders.text.encode_texts(distinct)
    progress.advance(len(distinct))
    image_features = []
    for start in range(0, len(photos), 64):
        image_features.append(encoders.image.encode_images(photos[start : start + 64]))
        progress.advance(len(distinct) + min(len(photos), start + 64))
    return TrainingData(
        image_features=np.concatenate(image_features) if image_features else np.zeros((0, encoders.image.dim)),
        image_groups=np.array(photo_groups),
        text_features=text_features[[text_index[text] for _group, text in rows]],
        text_groups=np.array([group for group, _text in rows]),
        texts_of_image=texts_of_image,
    )


def alignment_train(
    *, spec: EncoderSpec | None = None, config: HeadConfig | None = None, progress: JobProgress | None = None
) -> TrainedHead:
    """Train a head for ``spec`` (default: the settings) on the whole catalog and store it.

    With a CLIP backend the head starts as the identity (the towers already share a space) and training adapts
    it to the shop's domain.
    """
    spec = spec or spec_from_settings()
    progress = progress or JobProgress()
    encoders = load_encoders(spec)
    set_threads(settings.EMBEDDING_TORCH_THREADS)
    initial = AlignmentHead.identity(encoders.text.dim) if encoders.shared_space else None
    config = config or head_config_from_settings(**({"joint_dim": encoders.text.dim} if initial else {}))
    data = training_data_collect(encoders, progress)
    progress.start(total=config.epochs, message="training the alignment head")
    head, report = train_head(data, config, initial=initial, progress=lambda done, _total: progress.advance(done))
    logger.info(
        "alignment head trained: %d epochs (best %d), validation loss %.3f -> %.3f, %.1f s, %d photos, %d texts",
        report.epochs, report.best_epoch, report.initial_validation_loss, report.validation_loss, report.seconds,
        report.photos, report.texts,
    )  # fmt: skip
    return TrainedHead.objects.create(
        encoder_spec=spec.as_dict(),
        config=asdict(config),
        report=report.as_dict(),
        weights=head.to_bytes(),
        joint_dim=config.joint_dim,
    )


def identity_head(spec: EncoderSpec) -> TrainedHead:
    """An untrained identity head for encoders that share a space (CLIP without domain adaptation)."""
    encoders = load_encoders(spec)
    if not encoders.shared_space:
        raise ValueError("an identity head only makes sense for encoders that share a space (CLIP)")
    dim = encoders.text.dim
    return TrainedHead.objects.create(
        encoder_spec=spec.as_dict(),
        config={"identity": True, "joint_dim": dim},
        report={"identity": True},
        weights=AlignmentHead.identity(dim).to_bytes(),
        joint_dim=dim,
    )
