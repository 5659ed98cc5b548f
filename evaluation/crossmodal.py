"""Cross-modal retrieval figures of a generation (the embeddings' quality bar): text -> product photos through
the aligned space, photo -> product through the fused vector, and the raw photo-to-photo reference."""

from __future__ import annotations

import numpy as np

from catalog.models import Product
from embeddings.models import EmbeddingGeneration, ImageEmbedding
from embeddings.selectors import nearest_products
from embeddings.services.embedding import generation_models

from .evalfiles import EvalQuery
from .metrics import Figures, ndcg_at, summarize


def figures(rankings: list[list[str]], queries: list[EvalQuery]) -> Figures:
    return summarize(rankings, [q.relevant for q in queries])


def _skus() -> dict[int, str]:
    return dict(Product.objects.values_list("id", "sku"))


def text_to_photos(generation: EmbeddingGeneration, queries: list[EvalQuery], k: int = 100) -> Figures:
    """Text query -> the products whose photos (aligned image vectors) are nearest in the joint space."""
    encoders, head = generation_models(generation)
    vectors = head.project(encoders.text.encode_texts([q.text for q in queries]), "text")
    skus = _skus()
    rankings = [[skus[pid] for pid, _ in nearest_products(generation, v, column="aligned_image", k=k)] for v in vectors]
    return figures(rankings, queries)


def random_ranking_ndcg(queries: list[EvalQuery], trials: int = 50, seed: int = 0) -> float:
    """What NDCG@10 chance gives: the mean over random orders of the whole catalog."""
    rng = np.random.default_rng(seed)
    skus = list(_skus().values())
    scores = [ndcg_at(list(rng.permutation(skus)), q.relevant) for _ in range(trials) for q in queries]
    return float(np.mean(scores))


def photo_query_vectors(generation: EmbeddingGeneration, queries: list[EvalQuery]) -> np.ndarray:
    encoders, _head = generation_models(generation)
    photos = [encoders.image.decode(q.image.read_bytes()) for q in queries]
    return encoders.image.encode_images(photos)


def photo_to_fused(generation: EmbeddingGeneration, queries: list[EvalQuery], raw: np.ndarray, k: int = 100) -> Figures:
    """Photo query -> products by the fused vector (joint space)."""
    _encoders, head = generation_models(generation)
    skus = _skus()
    vectors = head.project(raw, "image")
    rankings = [[skus[pid] for pid, _ in nearest_products(generation, v, column="fused", k=k)] for v in vectors]
    return figures(rankings, queries)


def photo_to_photo_reference(generation: EmbeddingGeneration, queries: list[EvalQuery], raw: np.ndarray) -> Figures:
    """The naive reference: raw image-encoder cosine, best photo per product (exact, in memory)."""
    rows = list(ImageEmbedding.objects.filter(generation=generation).values_list("product_id", "vector"))
    products = np.array([pid for pid, _ in rows])
    matrix = np.stack([np.asarray(v, dtype=np.float32) for _, v in rows])
    skus = _skus()
    rankings = []
    for query in raw:
        best: dict[int, float] = {}
        for pid, score in zip(products, matrix @ query, strict=True):
            best[pid] = max(best.get(pid, -2.0), float(score))
        rankings.append([skus[pid] for pid in sorted(best, key=best.get, reverse=True)])
    return figures(rankings, queries)
