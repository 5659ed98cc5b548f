"""Generations: build one in the background while search answers from the active one, switch atomically,
roll back, and collect old ones."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from catalog.models import Product

from ..indexes import indexes_create, indexes_drop
from ..models import EmbeddingGeneration, TrainedHead
from ..neural.encoders import EncoderSpec, load_encoders
from ..selectors import build_chunks_summary
from ..signals import generation_activated
from .build_chunks import build_chunks_plan, build_chunks_work, build_runners_send
from .calibration import relevance_calibrate
from .embedding import generation_models
from .freshness import products_stale_reconcile
from .jobs import JobProgress
from .training import (
    alignment_train,
    identity_head,
    latest_head,
    spec_from_settings,
    text_only_head,
    usable_photo_count,
)

logger = logging.getLogger(__name__)

# Advisory lock keys are (namespace, generation id); the namespace keeps them apart from other users of locks.
LOCK_NAMESPACE = 7261
BUILD_LOCK_WAIT_SECONDS = 15


class GenerationError(RuntimeError):
    pass


def generation_create(
    *,
    spec: EncoderSpec | None = None,
    head: TrainedHead | None = None,
    image_weight: float | None = None,
    text_weight: float | None = None,
    train: bool = False,
    progress: JobProgress | None = None,
) -> EmbeddingGeneration:
    """A new generation in state "building". Without ``head``: the latest head trained for these encoders, or a
    new one (trained now; identity for CLIP) when there is none or ``train`` asks for it."""
    spec = spec or spec_from_settings()
    if head is None:
        head = None if train else latest_head(spec)
    if head is None:
        encoders = load_encoders(spec)
        photos = usable_photo_count()
        if encoders.shared_space and not train:
            head = identity_head(spec)
        elif not encoders.shared_space and photos < settings.EMBEDDING_MIN_TRAINING_PHOTOS:
            head = text_only_head(
                spec,
                reason=f"the catalog has {photos} usable photos, alignment training needs at least "
                f"{settings.EMBEDDING_MIN_TRAINING_PHOTOS} (EMBEDDING_MIN_TRAINING_PHOTOS)",
            )
        else:
            head = alignment_train(spec=spec, progress=progress)
    image_weight = settings.EMBEDDING_FUSION_IMAGE_WEIGHT if image_weight is None else image_weight
    text_weight = settings.EMBEDDING_FUSION_TEXT_WEIGHT if text_weight is None else text_weight
    if image_weight < 0 or text_weight < 0 or image_weight + text_weight <= 0:
        raise GenerationError("fusion weights must be at least 0 and not both 0")
    encoders = load_encoders(spec)
    return EmbeddingGeneration.objects.create(
        encoder_spec=spec.as_dict(),
        head=head,
        image_weight=image_weight,
        text_weight=text_weight,
        text_dim=encoders.text.dim,
        image_dim=encoders.image.dim,
        joint_dim=head.joint_dim,
        text_only=head.text_only,
    )


def generation_copy(*, source: EmbeddingGeneration, search_fusion: dict | None) -> EmbeddingGeneration:
    """A new ready generation with ``source``'s encoders, head and vectors (copied row for row in SQL: no encoder
    runs) and its own search fusion, e.g. the one ``evaluate --tune`` proposes. It is activated, rolled back and
    collected like any other generation, so a new fusion ships (and is undone) the way a new model does."""
    if source.state not in (EmbeddingGeneration.State.READY, EmbeddingGeneration.State.ACTIVE):
        raise GenerationError(f"generation {source.pk} is {source.state}: only a built generation can be copied")
    copied = ", ".join(COPIED_VECTOR_COLUMNS)
    with transaction.atomic():
        generation = EmbeddingGeneration.objects.create(
            encoder_spec=source.encoder_spec, head=source.head, image_weight=source.image_weight,
            text_weight=source.text_weight, text_dim=source.text_dim, image_dim=source.image_dim,
            joint_dim=source.joint_dim, build_cursor=source.build_cursor, search_fusion=search_fusion,
            text_only=source.text_only, relevance=source.relevance,
        )  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO embeddings_productembedding (generation_id, product_id, {copied}, updated_at) "
                f"SELECT %s, product_id, {copied}, now() FROM embeddings_productembedding WHERE generation_id = %s",
                [generation.pk, source.pk],
            )
            cursor.execute(
                "INSERT INTO embeddings_imageembedding (generation_id, image_id, product_id, vector, aligned) "
                "SELECT %s, image_id, product_id, vector, aligned FROM embeddings_imageembedding "
                "WHERE generation_id = %s",
                [generation.pk, source.pk],
            )
    indexes_create(generation)
    generation.state = EmbeddingGeneration.State.READY
    generation.built_at = timezone.now()
    generation.save(update_fields=["state", "built_at"])
    return generation


# What ``generation_copy`` copies of a product's row besides its ids.
COPIED_VECTOR_COLUMNS = (
    "text_vector", "image_vector", "aligned_text", "aligned_image", "fused", "photo_count", "content_version",
)  # fmt: skip


def generation_build(
    *, generation: EmbeddingGeneration, progress: JobProgress | None = None, runners: int = 0
) -> EmbeddingGeneration:
    """Embed every product into ``generation``, index it, mark it ready; a re-run after a crash resumes.

    The products are embedded in id-range chunks (``build_chunks``) that any worker process may take: this process
    plans them (once), sends ``runners`` chunk-runner tasks to the workers, takes chunks itself, waits for the ones
    others run (taking over those whose process died), and then runs the final steps, once. Its progress counts every
    process's products. Only one process builds a generation at a time (a PostgreSQL advisory lock); a second one
    returns at once.
    """
    progress = progress or JobProgress()
    if generation.state != EmbeddingGeneration.State.BUILDING:
        raise GenerationError(f"generation {generation.pk} is {generation.state}, not building")
    if not _build_lock(generation.pk):
        raise GenerationError(f"generation {generation.pk} is being built by another process")
    try:
        generation_models(generation)  # load (and fail) before the first batch
        build_chunks_plan(generation=generation)
        # A build started before chunks existed embedded the products up to its cursor already.
        before = Product.objects.filter(id__lte=generation.build_cursor).count() if generation.build_cursor else 0
        summary = build_chunks_summary(generation.pk)
        progress.start(total=before + summary.total, message=f"embedding products into generation {generation.pk}")

        def report() -> None:
            summary = build_chunks_summary(generation.pk)
            done = before + summary.products
            progress.total = max(progress.total, done)  # products added since the plan are in the last chunk
            progress.advance(done, detail=summary.detail())

        report()
        build_runners_send(generation_id=generation.pk, count=min(runners, summary.pending + summary.running - 1))
        build_chunks_work(generation_id=generation.pk, wait=True, on_progress=report)
        report()
        indexes_create(generation)
        relevance_calibrate(generation=generation)
        generation.state = EmbeddingGeneration.State.READY
        generation.built_at = timezone.now()
        generation.save(update_fields=["state", "built_at"])
        return generation
    except Exception as exc:
        if not isinstance(exc, GenerationError):
            logger.exception("building generation %s failed", generation.pk)
        EmbeddingGeneration.objects.filter(pk=generation.pk).update(error=f"{exc.__class__.__name__}: {exc}"[:5000])
        raise
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE, generation.pk])


def build_notes(generation: EmbeddingGeneration) -> list[str]:
    """What a build left out and why, for the operator (``reindex`` prints it, the job keeps it)."""
    notes = []
    if generation.text_only:
        reason = (generation.head.report or {}).get("reason", "too few photos to train an alignment head")
        notes.append(f"no joint (photo) space: {reason}; the joint and fused vectors are the text vectors, "
                     "cross-modal search is off")  # fmt: skip
    without = generation.product_embeddings.filter(photo_count=0).count()
    if without:
        notes.append(f"{without} products have no usable photo: their vectors come from their text alone")
    if not generation.image_embeddings.exists():
        notes.append("no photo vectors: photo search answers 409 on this generation")
    return notes


def _build_lock(generation_id: int) -> bool:
    """Take the generation's build lock, waiting a little: the session of a worker that was just killed holds
    it until PostgreSQL notices the closed connection."""
    deadline = time.monotonic() + BUILD_LOCK_WAIT_SECONDS
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_NAMESPACE, generation_id])
            if cursor.fetchone()[0]:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.2)


def generation_activate(*, generation: EmbeddingGeneration) -> EmbeddingGeneration:
    """Make ``generation`` the one search reads, atomically; the previous one stays ready for rollback."""
    with transaction.atomic():
        locked = {g.pk: g for g in EmbeddingGeneration.objects.select_for_update().filter(
            state__in=[EmbeddingGeneration.State.ACTIVE, EmbeddingGeneration.State.READY]
        )}  # fmt: skip
        target = locked.get(generation.pk)
        if target is None:
            raise GenerationError(f"generation {generation.pk} is not built (state {generation.state})")
        if target.state == EmbeddingGeneration.State.ACTIVE:
            return target
        EmbeddingGeneration.objects.filter(state=EmbeddingGeneration.State.ACTIVE).update(
            state=EmbeddingGeneration.State.READY
        )
        target.state = EmbeddingGeneration.State.ACTIVE
        target.activated_at = timezone.now()
        target.save(update_fields=["state", "activated_at"])
        # Stale now means: not up to date in this generation.
        products_stale_reconcile(generation=target)
        transaction.on_commit(lambda: _after_activation(target.pk))
    logger.info("generation %s is active", target.pk)
    return target


def _after_activation(generation_id: int) -> None:
    generation_activated.send(sender=EmbeddingGeneration, generation_id=generation_id)


def generation_rollback() -> EmbeddingGeneration:
    """Re-activate the generation that was active before the current one."""
    current = EmbeddingGeneration.objects.filter(state=EmbeddingGeneration.State.ACTIVE).first()
    previous = (
        EmbeddingGeneration.objects.filter(state=EmbeddingGeneration.State.READY, activated_at__isnull=False)
        .exclude(pk=getattr(current, "pk", None))
        .order_by("-activated_at")
        .first()
    )
    if previous is None:
        raise GenerationError("there is no earlier generation to roll back to")
    return generation_activate(generation=previous)


def generations_collect(*, keep: int | None = None) -> list[int]:
    """Delete generations beyond the active one and the ``keep`` most recent others (never one being built)."""
    keep = settings.EMBEDDING_KEEP_GENERATIONS if keep is None else keep
    states = EmbeddingGeneration.State
    candidates = list(
        EmbeddingGeneration.objects.filter(state__in=[states.READY, states.FAILED])
        .order_by("-activated_at", "-id")
        .values_list("pk", flat=True)
    )
    removed = candidates[keep:]
    for generation_id in removed:
        indexes_drop(generation_id)
        EmbeddingGeneration.objects.filter(pk=generation_id).delete()
    unused_heads = TrainedHead.objects.filter(generations__isnull=True).order_by("-created_at", "-id")
    for head in list(unused_heads)[keep + 1 :]:
        head.delete()
    if removed:
        logger.info("collected generations %s", removed)
    return removed
