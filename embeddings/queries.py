"""Query encoding: the one door through which search, similar items, evaluation and the admin turn a shopper's
text or photo into vectors of a generation (the encoders and the head stay behind ``embeddings.neural``).

``shop_search.readiness`` warms a web or worker process through this door (one text, one photo) before its
first request.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from django.conf import settings

from .models import EmbeddingGeneration
from .neural.encoders import query_encoder, set_threads
from .services.embedding import generation_models

# How strongly the optional text of a photo search pulls the photo's joint vector ("like this, but in blue").
PHOTO_TEXT_REFINE_WEIGHT = 0.6


@dataclass
class PhotoQuery:
    image_vector: np.ndarray  # image encoder space
    joint_vector: np.ndarray | None  # joint space (photo, refined by the text if any); None: text-only head


@functools.lru_cache(maxsize=2048)
def query_text_vectors(generation: EmbeddingGeneration, text: str) -> tuple[np.ndarray, np.ndarray]:
    """(text encoder vector, joint-space vector) of a query; repeated queries are not encoded again."""
    encoders, head = generation_models(generation)
    set_threads(settings.SEARCH_TORCH_THREADS)
    encoder = query_encoder(encoders.text, int8=settings.SEARCH_QUERY_INT8)
    text_vector = encoder.encode_texts([text])[0]
    return text_vector, head.project(text_vector[None, :], "text")[0]


def photo_query(generation: EmbeddingGeneration, image, text: str = "") -> PhotoQuery:
    """The vectors of a photo search: the photo in the image space and in the joint space, pulled towards the
    optional ``text`` ("like this, but in blue")."""
    encoders, head = generation_models(generation)
    set_threads(settings.SEARCH_TORCH_THREADS)
    image_vector = encoders.image.encode_images([image.convert("RGB")])[0]
    if generation.text_only:  # no joint space: a catalog with too few photos to train an alignment head
        return PhotoQuery(image_vector=image_vector, joint_vector=None)
    joint = head.project(image_vector[None, :], "image")[0]
    if text:
        joint = joint + PHOTO_TEXT_REFINE_WEIGHT * query_text_vectors(generation, text)[1]
        joint = joint / np.linalg.norm(joint)
    return PhotoQuery(image_vector=image_vector, joint_vector=joint)
