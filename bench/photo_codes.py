"""How long a binary photo code must be: recall@10 of photo search when the photos re-scored are the nearest by
Hamming distance of codes of 1, 2 or 3 mixings (1,408, 2,816 or 4,224 bits for 1,408-d vectors), exactly, in numpy.

    python bench/photo_codes.py [--products 1000000] [--samples 200] [--rescore 500,1000,2000,4000] [--mixings 1,2,3]
        [--database NAME]

Reads every photo vector of the active generation of the kept scaled catalog ``test_scaled_<N>``
(bench/scaled_catalog.py; ``--database`` reads a database as it is, for example while its indexes are still being
built), computes each photo's code under each mixing (``embeddings.indexes.photo_code``: the signs of three rounds
of alternating sums of 8 cyclic rotations; ``photo_code_v1`` is the first mixing alone, ``photo_code_v2`` the first
three, whose second and third were drawn with ``SHIFT_SEED``), and for each query ranks every photo by Hamming
distance to the query's code (no index: the IVFFlat lists' own losses are not counted), re-scores the ``--rescore``
nearest by cosine of the stored vectors and compares the 10 best products with an exact scan's. Queries as
bench/vector_storage.py draws them: ``--samples`` random catalog photos' own vectors and luma-dev's evaluation
photos encoded by the generation's image encoder.
Memory: about 0.2 GB of codes per mixing per million photos, and 4 bytes per photo and query for the exact scores.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from pathlib import Path

import numpy as np
from _setup import ROOT, django_setup

STREAM_ROWS = 20_000
SHIFT_SEED = 20261207  # the rotations of the second and third mixings


def shift_sets(mixings: int, dim: int) -> list[tuple[tuple[int, ...], ...]]:
    """Each mixing's rotations: ``photo_code_v2``'s three (the first is ``photo_code_v1``'s; the others were drawn
    with this module's ``SHIFT_SEED``), then more drawn the same way (three rounds of 0 and 7 distinct shifts)."""
    from embeddings.indexes import PHOTO_CODE_MIXINGS

    rng = np.random.default_rng(SHIFT_SEED)
    sets = [PHOTO_CODE_MIXINGS[0]]
    for m in range(1, mixings):
        rounds = [(0, *sorted(rng.choice(np.arange(1, dim), size=7, replace=False).tolist())) for _ in range(3)]
        sets.append(PHOTO_CODE_MIXINGS[m] if m < len(PHOTO_CODE_MIXINGS) else tuple(rounds))
    return sets


def mixed_signs(vectors: np.ndarray, shifts) -> np.ndarray:
    """The signs of ``vectors`` mixed as ``photo_code_v1`` mixes them, with rotations ``shifts``, packed 8 to a byte.
    Each round is a sum of rotations, so the mixing is a circular convolution: one FFT (its kernel the mixing of the
    first unit vector), the same signs as the rounds computed one by one but for values within rounding of 0."""
    vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float64))
    dim = vectors.shape[1]
    kernel = np.zeros((1, dim))
    kernel[0, 0] = 1.0
    for round_shifts in shifts:  # the mixing of a unit vector: where the first dimension goes
        total = np.zeros_like(kernel)
        for k, shift in enumerate(round_shifts):
            total += (1 if k % 2 == 0 else -1) * np.roll(kernel, -(shift % dim), axis=1)
        kernel = total
    # mixing(x)[j] = sum_i x[i] * kernel[(j - i) mod dim]: a circular convolution
    mixed = np.fft.irfft(np.fft.rfft(vectors, axis=1) * np.fft.rfft(kernel, axis=1), n=dim, axis=1)
    return np.packbits(mixed > 0, axis=1)


def photos_read(database_generation, queries: np.ndarray, sets) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """Every photo's product, its codes under each mixing, and its cosine with every query (photos x queries)."""
    from django.db import connection, transaction
    from tqdm import tqdm
    from vector_storage import sent_vectors

    connection.ensure_connection()
    raw = connection.connection
    owners, codes, scores = [], [[] for _ in sets], []
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM embeddings_imageembedding WHERE generation_id = %s", [database_generation])
        total = cursor.fetchone()[0]
    with transaction.atomic(), raw.cursor(name="photo_codes") as cursor, tqdm(total=total, unit="photo") as bar:
        cursor.execute("SELECT product_id, vector_send(vector::vector) FROM embeddings_imageembedding "
                       "WHERE generation_id = %s", [database_generation])  # fmt: skip
        while rows := cursor.fetchmany(STREAM_ROWS):
            vectors = sent_vectors([row[1] for row in rows])
            owners.append(np.array([row[0] for row in rows]))
            for mixing, shifts in enumerate(sets):
                codes[mixing].append(mixed_signs(vectors, shifts))
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            scores.append((vectors @ queries.T).astype(np.float32))
            bar.update(len(rows))
    return np.concatenate(owners), [np.concatenate(c).view(np.uint64) for c in codes], np.concatenate(scores)


def top_products(owners: np.ndarray, photos: np.ndarray, scores: np.ndarray, k: int = 10) -> list[int]:
    """The ``k`` products whose best photo among ``photos`` scores highest."""
    ranked = photos[np.argsort(-scores[photos], kind="stable")]
    seen: list[int] = []
    for product in owners[ranked].tolist():
        if product not in seen:
            seen.append(product)
            if len(seen) == k:
                break
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--database", help="read this database as it is (no build, no migration)")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rescore", default="500,1000,2000,4000")
    parser.add_argument("--mixings", default="1,2,3")
    parser.add_argument("--source", type=Path, default=ROOT.parent / "shared" / "datasets" / "luma-dev")
    args = parser.parse_args()
    django_setup()
    from scaled_catalog import _use_database, scaled_database
    from vector_storage import photo_queries

    from embeddings.models import EmbeddingGeneration

    rescores = [int(v) for v in args.rescore.split(",")]
    mixings = [int(v) for v in args.mixings.split(",")]
    if args.database:
        _use_database(args.database)
        opened = contextlib.nullcontext(EmbeddingGeneration.objects.get(state=EmbeddingGeneration.State.ACTIVE))
    else:
        opened = scaled_database(args.products, seed=args.seed, source=args.source)
    with opened as generation:
        kinds = photo_queries(generation, samples=args.samples, seed=args.seed, source=args.source)
        queries = np.concatenate(list(kinds.values()))
        sets = shift_sets(max(mixings), generation.image_dim)
        started = time.perf_counter()
        owners, codes, scores = photos_read(generation.pk, queries, sets)
        print(f"{len(owners):,} photos of {len(np.unique(owners)):,} products read in "
              f"{time.perf_counter() - started:.0f} s; {len(queries)} queries", flush=True)  # fmt: skip
    everything = np.arange(len(owners))
    query_codes = [mixed_signs(queries, shifts).view(np.uint64) for shifts in sets]  # per mixing
    recall = {m: {k: {kind: [] for kind in kinds} for k in rescores} for m in mixings}
    bounds = np.cumsum([0, *[len(v) for v in kinds.values()]])
    names = list(kinds)
    for q in range(len(queries)):
        kind = names[int(np.searchsorted(bounds, q, side="right")) - 1]
        exact = set(top_products(owners, everything, scores[:, q]))
        # a code of m mixings is the first m codes one after the other: its distance, the sum of theirs
        per_mixing = [
            np.bitwise_count(code ^ query_code[q]).sum(axis=1, dtype=np.int32)
            for code, query_code in zip(codes, query_codes, strict=True)
        ]
        for m in mixings:
            distance = np.sum(per_mixing[:m], axis=0)
            for k in rescores:
                near = np.argpartition(distance, k)[:k] if k < len(distance) else everything
                found = top_products(owners, near, scores[:, q])
                recall[m][k][kind].append(len(exact & set(found)) / 10)
    bits = generation.image_dim
    print(
        f"recall@10 of the best photos' products, the photos re-scored nearest by Hamming distance "
        f"({' / '.join(names)}):"
    )
    for m in mixings:
        cells = [f"{k}: " + " / ".join(f"{np.mean(recall[m][k][kind]):.3f}" for kind in names) for k in rescores]
        print(f"  {m} mixing{'s' if m > 1 else ''} ({m * bits:,} bits, {m * bits // 8} bytes): " + "; ".join(cells))


if __name__ == "__main__":
    main()
