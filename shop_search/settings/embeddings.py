"""Embedding settings: which encoders a new generation uses, how the alignment head trains, how vectors fuse."""

from .env import env

# "default": a sentence-transformers text model + an EfficientNet-Lite image model, aligned by a trained head.
# "clip": one CLIP model (EMBEDDING_CLIP_MODEL, a hub name in the local cache or a folder) for both.
EMBEDDING_BACKEND = env.str("EMBEDDING_BACKEND", default="default")
# "minilm" (all-MiniLM-L6-v2, shipped in a PyPI package), any sentence-transformers name/path, or "hashing".
EMBEDDING_TEXT_MODEL = env.str("EMBEDDING_TEXT_MODEL", default="minilm")
# efficientnet-lite0 (default: best speed/quality, see README), -lite1, -lite2, or "pixel-stats".
EMBEDDING_IMAGE_MODEL = env.str("EMBEDDING_IMAGE_MODEL", default="efficientnet-lite0")
# "pad": the whole photo on a square of its border colour; "crop": resize + centre crop.
EMBEDDING_IMAGE_FIT = env.str("EMBEDDING_IMAGE_FIT", default="pad")
# Weight of the colour appearance appended to the image features (embeddings/neural/encoders.py): what tells a
# back view of one grey hoodie from another grey hoodie. 0 turns it off. Default backend only.
EMBEDDING_IMAGE_COLOUR = env.float("EMBEDDING_IMAGE_COLOUR", default=1.0)
EMBEDDING_CLIP_MODEL = env.str("EMBEDDING_CLIP_MODEL", default="")
EMBEDDING_CLIP_LOADER = env.str("EMBEDDING_CLIP_LOADER", default="sentence-transformers")
# Torch threads for batch embedding and training; 0 = one per core (set 1 when a worker runs a process per core).
EMBEDDING_TORCH_THREADS = env.int("EMBEDDING_TORCH_THREADS", default=0)
# How a new generation indexes its photos for photo search (``embeddings/indexes.py``; README "Running at scale").
# "photo": an HNSW index over every photo's image vector besides the product indexes: 7.5 KB of index a product
# and 4.1 KB a photo (19.8 GB at 1,000,000 products with three photos each), photo search statement p50 9-12 ms at
# 50,000 products, recall@10 of the exact best photos 0.987 (catalog photos) and 0.992 (luma-dev's withheld views).
# "product": no per-photo index; one pooled photo vector per product in the index (the product's image vector,
# which similar items read anyway), the nearest SEARCH_PHOTO_RESCORE_PRODUCTS products' photos re-scored exactly
# from the table: 7.5 KB of index a product whatever its photos (7.5 GB at 1,000,000), but a slower statement
# (p50 27-55 ms at 50,000) and a recall that falls as the catalog grows (0.98 and 0.95 at 50,000, 0.89 at 250,000
# synthetic products). "binary": an IVFFlat index over every photo's 1,408-bit code (204 bytes a photo), the
# SEARCH_PHOTO_RESCORE_PHOTOS nearest photos by code re-scored exactly (embeddings/indexes.py): at 250,000 synthetic
# products recall 0.98 for 1,000 photos re-scored, where "product" gives 0.89 / 0.73 (300) or 0.99 / 0.93 (1,000).
# "auto" (the default): "photo" while the catalog has at most EMBEDDING_PHOTO_INDEX_AUTO_MAX_PHOTOS photos
# (250,000: about 1 GB of photo index), "binary" beyond. Measured with bench/vector_storage.py --compare-layouts
# and bench/search_latency.py (README "Running at scale").
EMBEDDING_PHOTO_INDEX = env.str("EMBEDDING_PHOTO_INDEX", default="auto")
if EMBEDDING_PHOTO_INDEX not in ("auto", "product", "photo", "binary"):
    raise ValueError(
        f"EMBEDDING_PHOTO_INDEX must be 'auto', 'product', 'photo' or 'binary', not {EMBEDDING_PHOTO_INDEX!r}"
    )
EMBEDDING_PHOTO_INDEX_AUTO_MAX_PHOTOS = env.int("EMBEDDING_PHOTO_INDEX_AUTO_MAX_PHOTOS", default=250_000)
# maintenance_work_mem of the session that builds a generation's HNSW indexes: a graph that fits builds several times
# faster than one that spills to disk. The largest graph is the pooled photo vectors' (~4.1 KB a product at 1,408
# dimensions): 512MB holds ~120,000 products; give it ~5 KB a product (5GB at 1,000,000) where memory allows.
EMBEDDING_INDEX_BUILD_MEMORY = env.str("EMBEDDING_INDEX_BUILD_MEMORY", default="512MB")

# Joint space of the alignment head (the fused vector's dimension with the default backend).
EMBEDDING_JOINT_DIM = env.int("EMBEDDING_JOINT_DIM", default=256)
# Fused vector = normalise(image_weight * aligned image + text_weight * aligned text).
EMBEDDING_FUSION_IMAGE_WEIGHT = env.float("EMBEDDING_FUSION_IMAGE_WEIGHT", default=0.5)
EMBEDDING_FUSION_TEXT_WEIGHT = env.float("EMBEDDING_FUSION_TEXT_WEIGHT", default=0.5)
# Products per embedding batch: one batch is one transaction; 32 products (~80 photos) is ~2 s on 2 cores.
EMBEDDING_BATCH_SIZE = env.int("EMBEDDING_BATCH_SIZE", default=32)
# A generation build is split into id ranges of this many products (``BuildChunk``) that any worker process takes:
# one row and one claim per chunk; a worker killed mid-chunk costs its last batch, not its chunk (it resumes).
EMBEDDING_BUILD_CHUNK_SIZE = env.int("EMBEDDING_BUILD_CHUNK_SIZE", default=1000)
# Chunk-runner tasks a build sends to the ``reindex`` queue besides its own process: set it to the worker processes
# (all machines together) that may share a build, less one. Idle runners find nothing to take and return at once.
EMBEDDING_BUILD_RUNNERS = env.int("EMBEDDING_BUILD_RUNNERS", default=3)
# A chunk taken this many times without finishing (its workers keep dying: memory?) fails the build.
EMBEDDING_BUILD_CHUNK_ATTEMPTS = env.int("EMBEDDING_BUILD_CHUNK_ATTEMPTS", default=3)
# Stale products embedded per run of the periodic task (bounded, oldest first); the rest wait for the next run.
EMBEDDING_STALE_BATCH_LIMIT = env.int("EMBEDDING_STALE_BATCH_LIMIT", default=512)
# Generations kept besides the active one (for rollback); older ones are garbage-collected.
EMBEDDING_KEEP_GENERATIONS = env.int("EMBEDDING_KEEP_GENERATIONS", default=2)
# Fewer usable photos than this and no alignment head is trained (it would learn nothing but noise): the
# generation is text-only (joint space = text space; photos keep their image-space vectors for photo search).
EMBEDDING_MIN_TRAINING_PHOTOS = env.int("EMBEDDING_MIN_TRAINING_PHOTOS", default=20)
