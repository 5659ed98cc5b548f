"""Embedding data: trained alignment heads, generations, product and photo vectors, background jobs."""

from django.db import models
from django.db.models import Q
from pgvector.django import HalfVectorField, VectorField

from catalog.models import Product, ProductImage


class TrainedHead(models.Model):
    """An alignment head trained for one pair of encoders; its weights are stored here, so every process can load
    it from the database."""

    encoder_spec = models.JSONField()
    config = models.JSONField(default=dict)
    report = models.JSONField(default=dict, help_text="Training figures: epochs, losses, seconds, photos, texts.")
    weights = models.BinaryField()
    joint_dim = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"head {self.pk} ({self.joint_dim}-d)"

    @property
    def text_only(self) -> bool:
        """Not trained: the catalog had too few photos, and the joint space is the text encoder's own."""
        return bool(self.config.get("text_only"))


def photo_index_default() -> str:
    """The photo index layout of a new generation: ``EMBEDDING_PHOTO_INDEX``; with ``auto``, an index over every
    photo's vector while the catalog has at most ``EMBEDDING_PHOTO_INDEX_AUTO_MAX_PHOTOS`` photos, over every
    photo's binary code beyond (``embeddings.indexes``)."""
    from django.conf import settings

    if settings.EMBEDDING_PHOTO_INDEX != "auto":
        return settings.EMBEDDING_PHOTO_INDEX
    from catalog.models import ProductImage

    photos = ProductImage.objects.count()
    return "photo" if photos <= settings.EMBEDDING_PHOTO_INDEX_AUTO_MAX_PHOTOS else "binary"


class EmbeddingGeneration(models.Model):
    """Encoders + alignment head + fusion weights. Search reads the one active generation; others are being
    built, kept for rollback, or failed."""

    class State(models.TextChoices):
        BUILDING = "building"
        READY = "ready"
        ACTIVE = "active"
        FAILED = "failed"

    class PhotoIndex(models.TextChoices):
        # One HNSW element per product (its pooled ``image_vector``, the index similar items read anyway); photo
        # search re-scores the nearest products' own photos exactly. No per-photo index (``embeddings.indexes``).
        PRODUCT = "product"
        # One HNSW element per photo too, full dimensions: 4.1 KB more a photo of index memory (4,096 bytes at
        # 1,408 dimensions; the layout of generations built before).
        PHOTO = "photo"
        # An IVFFlat index over every photo's binary code (``photo_code_v2``, 3 bits a dimension, Hamming distance;
        # ``embeddings.indexes``); photo search re-scores the ``SEARCH_PHOTO_RESCORE_PHOTOS`` nearest photos by code
        # exactly, from the table.
        BINARY = "binary"

    state = models.CharField(max_length=16, choices=State.choices, default=State.BUILDING)
    encoder_spec = models.JSONField()
    head = models.ForeignKey(TrainedHead, on_delete=models.PROTECT, related_name="generations")
    image_weight = models.FloatField()
    text_weight = models.FloatField()
    text_dim = models.PositiveIntegerField()
    image_dim = models.PositiveIntegerField()
    joint_dim = models.PositiveIntegerField()
    # Builds embed id-range chunks (``BuildChunk``) now; a build started before them recorded here the last product
    # id it had embedded, and resumes after it.
    build_cursor = models.BigIntegerField(default=0)
    # How search fuses its signals with this generation's vectors ({"method", "weights", "rrf_k"}), as proposed by
    # ``evaluate --tune``; null means the settings (SEARCH_FUSION, SEARCH_SIGNAL_WEIGHTS, SEARCH_RRF_K).
    search_fusion = models.JSONField(null=True, blank=True)
    # The joint space is the text encoder's alone (the catalog had too few photos to train a head): photos keep
    # their image-space vectors, nothing has a joint-space photo vector, and the fused vector is the text vector.
    text_only = models.BooleanField(default=False)
    # How photo search finds its nearest photos, fixed when the generation is created (its indexes depend on it).
    photo_index = models.CharField(max_length=16, choices=PhotoIndex.choices, default=photo_index_default)
    # Relevance thresholds per search signal, calibrated from the catalog when the generation is built
    # (``embeddings.services.calibration``): {"signals": {signal: {"threshold", "typical", ...}}, ...}. A candidate
    # of a vector signal is evidence of a match only at or above its signal's threshold.
    relevance = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    built_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["state"], condition=Q(state="active"), name="one_active_generation"),
            models.CheckConstraint(
                condition=Q(image_weight__gte=0, text_weight__gte=0), name="fusion_weights_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"generation {self.pk} ({self.state})"

    @property
    def version(self) -> int:
        return self.pk


class ProductEmbedding(models.Model):
    """The vectors of one product in one generation. Dimensions vary by generation, so columns are untyped
    ``vector`` and each generation gets partial HNSW indexes on casts to its own dimensions (see ``indexes.py``)."""

    generation = models.ForeignKey(EmbeddingGeneration, on_delete=models.CASCADE, related_name="product_embeddings")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="embeddings")
    text_vector = VectorField(help_text="Text encoder space (product document).")
    image_vector = VectorField(null=True, blank=True, help_text="Image encoder space, mean of the usable photos.")
    aligned_text = VectorField(help_text="Joint space, from the text side of the head.")
    aligned_image = VectorField(null=True, blank=True, help_text="Joint space, mean of the photos' projections.")
    fused = VectorField(help_text="Joint space: weighted, normalised sum of aligned image and aligned text.")
    photo_count = models.PositiveSmallIntegerField(default=0)
    content_version = models.PositiveIntegerField(help_text="Product.content_version these vectors reflect.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["generation", "product"], name="one_embedding_per_product_generation"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} in generation {self.generation_id}"


class ImageEmbedding(models.Model):
    """The vectors of one product photo in one generation (photo search matches photo against photo), stored at half
    precision (``halfvec``, migration 0011): a photo's row is half the pages, and photo search re-scores its
    candidates from it (``search.candidates``). Reads give floats, as ``VectorField`` does."""

    generation = models.ForeignKey(EmbeddingGeneration, on_delete=models.CASCADE, related_name="image_embeddings")
    image = models.ForeignKey(ProductImage, on_delete=models.CASCADE, related_name="embeddings")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="image_embeddings")
    vector = HalfVectorField(help_text="Image encoder space.")
    aligned = HalfVectorField(null=True, blank=True, help_text="Joint space (none in a text-only generation).")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["generation", "image"], name="one_embedding_per_image_generation"),
        ]
        indexes = [models.Index(fields=["generation", "product"], name="image_embedding_product")]

    def __str__(self) -> str:
        return f"image {self.image_id} in generation {self.generation_id}"


class BuildChunk(models.Model):
    """One id range of a generation build. Any worker process takes a pending chunk (``SELECT ... FOR UPDATE SKIP
    LOCKED``), holds its advisory lock while it embeds the range batch by batch, and stamps its heartbeat; a chunk
    whose heartbeat stopped and whose lock is free lost its worker, and is taken again (resuming after ``cursor``)
    until ``attempts`` reaches EMBEDDING_BUILD_CHUNK_ATTEMPTS (``embeddings.services.build_chunks``)."""

    class State(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    generation = models.ForeignKey(EmbeddingGeneration, on_delete=models.CASCADE, related_name="build_chunks")
    first_id = models.BigIntegerField(help_text="Lowest product id of the range (inclusive).")
    end_id = models.BigIntegerField(null=True, blank=True, help_text="Exclusive end; none for the last chunk.")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    total = models.PositiveIntegerField(default=0, help_text="Products in the range when the build was planned.")
    # The range is embedded in id order; the last id done lets a new worker resume where a killed one stopped.
    cursor = models.BigIntegerField(default=0)
    products = models.PositiveIntegerField(default=0, help_text="Products embedded so far.")
    photos = models.PositiveIntegerField(default=0, help_text="Photo vectors written so far.")
    photo_errors = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Times a worker took it.")
    worker = models.CharField(max_length=255, blank=True, help_text="The process that took it last (host:pid).")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["generation", "first_id"]
        constraints = [
            models.UniqueConstraint(fields=["generation", "first_id"], name="one_build_chunk_per_range_start"),
        ]
        indexes = [models.Index(fields=["generation", "state"], name="build_chunk_generation_state")]

    def __str__(self) -> str:
        return f"chunk {self.pk} of generation {self.generation_id} ({self.state})"


class Job(models.Model):
    """A long-running operation (training, building a generation) with progress the admin can poll."""

    class Kind(models.TextChoices):
        TRAIN = "train", "train alignment head"
        BUILD = "build", "build generation"
        SIMILAR = "similar", "similar-item lists"

    class State(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    generation = models.ForeignKey(EmbeddingGeneration, null=True, blank=True, on_delete=models.SET_NULL)
    head = models.ForeignKey(TrainedHead, null=True, blank=True, on_delete=models.SET_NULL)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    message = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True)
    # The Celery task that runs it; blank for a job run in the foreground (a management command).
    task_id = models.CharField(max_length=64, blank=True)
    options = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Stamped every JOB_HEARTBEAT_SECONDS while a process runs the job, even deep in a long batch; a running job
    # without one for JOB_STALL_SECONDS lost its process (``jobs_requeue_stalled``).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    requeues = models.PositiveSmallIntegerField(default=0, help_text="Times it was re-queued after its worker died.")

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["state", "kind"], name="job_state_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.state})"

    @property
    def percent(self) -> float:
        if self.state == self.State.DONE:
            return 100.0
        return round(100.0 * self.done / self.total, 1) if self.total else 0.0

    @property
    def eta_seconds(self) -> float | None:
        """Seconds left at the rate so far; None until there is a rate."""
        if self.state != self.State.RUNNING or not self.started_at or not self.done or not self.total:
            return None
        elapsed = (self.updated_at - self.started_at).total_seconds()
        return max(0.0, elapsed / self.done * (self.total - self.done))
