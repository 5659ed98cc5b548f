"""Relevance calibration: from the catalog itself, how similar is "a match", and how similar is "unrelated", for
each vector signal of a generation.

A cosine means nothing on its own: 0.35 is a strong text match for one encoder and noise for another, and photo
cosines in a catalog of studio shots sit far higher than text cosines. So every generation measures, when it is
built, each signal's similarity distribution over pairs it can label without help:

- **unrelated pairs**: a pseudo-query made from one product (its name, for text; one of its photos, for photos)
  against products that share neither its primary category nor a word of its name (in a catalog without
  categories, no name word), and random letter strings ("zzqv xkpt") against the whole catalog;
- **matching pairs**: the same pseudo-query against its own product (for photos: another photo of it).

From these, per signal (``"<query kind>:<signal>"``, since a text query and a photo query see one column on very
different scales):

- ``photo:domain``: a photo query whose nearest catalog photo is less similar than almost every catalog photo's
  nearest photo of another product (``DOMAIN_QUANTILE``) shows something the shop does not sell: it matches nothing.
- ``threshold``: the ``UNRELATED_QUANTILE`` of the unrelated pairs, raised above the best similarity any nonsense
  string reaches in the whole catalog. A vector-only candidate enters a search's match set only at or above it.
- ``floor`` (median unrelated) and ``typical`` (median matching): the absolute scale on which fusion scores a
  signal, 0 at the floor, 1 at a typical match (``search.ranking``), the same for every query.

Settings (``SEARCH_RELEVANCE_THRESHOLDS``) and ``evaluate --tune --store`` override thresholds per signal; the
admin's operations page shows them.
"""

from __future__ import annotations

import logging
import re
import string

import numpy as np
from django.conf import settings
from django.db import connection

from ..indexes import vector_expression
from ..models import EmbeddingGeneration
from ..neural.encoders import l2_normalize
from .embedding import generation_models

logger = logging.getLogger(__name__)

# Products sampled (seeded) for the pairs: 400 names x 400 products is 160,000 pairs, ~0.3 s of numpy; the
# quantiles move by about 0.005 between seeds at this size on luma-dev and the 50,000 text catalog.
SAMPLE_PRODUCTS = 400
SAMPLE_PHOTOS = 400
# Share of unrelated pairs below the threshold: 1 in 200 unrelated products clears it by chance.
UNRELATED_QUANTILE = 0.995
# Nonsense strings scored against the whole catalog (nearest product, through the HNSW indexes).
NONSENSE_QUERIES = 40
# Common words of the language that no product contains, scored against the whole catalog like queries: the
# threshold of a text signal is at least this quantile of their best similarity (a query for something the shop
# does not sell finds nothing, 19 times in 20). Drawn from the ABSENT_VOCABULARY most frequent words.
ABSENT_WORDS = 200
ABSENT_QUANTILE = 0.95
ABSENT_VOCABULARY = 20000
# A photo query is of the catalog's domain when its nearest catalog photo is at least as close as this quantile of
# the catalog's own photos to their nearest photo of another product (photo:domain).
DOMAIN_QUANTILE = 0.01
# The threshold sits at least this far above the best nonsense similarity.
NONSENSE_MARGIN = 0.02
# Fewer unrelated pairs than this and a signal keeps the defaults below (too few to estimate a quantile).
MIN_PAIRS = 20
DEFAULT = {"floor": 0.2, "threshold": 0.5, "typical": 0.8}
SEED = 20261206

# Text-query signals: (signal, product column, query side); photo-query signals the same with the photo's vectors.
TEXT_SIGNALS = (("text_vector", "text_vector", "raw"), ("cross_modal", "aligned_image", "joint"),
                ("fused", "fused", "joint"))  # fmt: skip
PHOTO_SIGNALS = (("image", "photo", "raw"), ("cross_modal", "aligned_image", "joint"), ("fused", "fused", "joint"))
# Similar items: a product's own vector against the others'.
SIMILAR_SIGNALS = (("fused", "fused"), ("image", "image_vector"), ("text_vector", "text_vector"))

_WORD = re.compile(r"[a-z0-9]{3,}")
_STOP = frozenset(["and", "the", "for", "with", "from", "pack", "set", "inch", "new"])


def _words(text: str) -> set[str]:
    return {word for word in _WORD.findall(text.lower()) if word not in _STOP}


def nonsense_queries(count: int = NONSENSE_QUERIES) -> list[str]:
    """Random letter strings of one or two words (seeded): queries that match nothing in any shop."""
    rng = np.random.default_rng(SEED)
    letters = np.array(list(string.ascii_lowercase))
    queries = []
    for _ in range(count):
        words = ["".join(rng.choice(letters, size=int(rng.integers(4, 9)))) for _ in range(int(rng.integers(1, 3)))]
        queries.append(" ".join(words))
    return queries


def _sample_products(generation: EmbeddingGeneration) -> list[tuple]:
    """Up to SAMPLE_PRODUCTS products with vectors: id, name, primary category, text, aligned image, fused."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(
            "SELECT e.product_id, p.name, p.primary_category_id, e.text_vector::text, e.aligned_image::text, "
            "e.fused::text, e.image_vector::text FROM embeddings_productembedding e "
            "JOIN catalog_product p ON p.id = e.product_id WHERE e.generation_id = %s ORDER BY random() LIMIT %s",
            [generation.pk, SAMPLE_PRODUCTS],
        )
        rows = cursor.fetchall()
    return [(pid, name, cat, *(_parse(v) for v in vectors)) for pid, name, cat, *vectors in rows]


def _sample_photos(generation: EmbeddingGeneration) -> list[tuple]:
    """Up to SAMPLE_PHOTOS photos of products with at least two: product id, category, vector, aligned."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(
            "WITH many AS (SELECT product_id FROM embeddings_imageembedding WHERE generation_id = %s "
            "GROUP BY product_id HAVING count(*) >= 2 ORDER BY random() LIMIT %s) "
            "SELECT ie.product_id, p.primary_category_id, ie.vector::text, ie.aligned::text "
            "FROM embeddings_imageembedding ie JOIN many USING (product_id) JOIN catalog_product p ON p.id = "
            "ie.product_id WHERE ie.generation_id = %s ORDER BY ie.product_id, ie.id",
            [generation.pk, SAMPLE_PHOTOS // 2, generation.pk],
        )
        rows = cursor.fetchall()
    return [(pid, cat, _parse(vector), _parse(aligned)) for pid, cat, vector, aligned in rows]


def _parse(text: str | None) -> np.ndarray | None:
    return None if text is None else np.array(text.strip("[]").split(","), dtype=np.float32)


def _summary(
    matching: np.ndarray, unrelated: np.ndarray, nonsense_max: float | None, absent: np.ndarray | None = None
) -> dict:
    if len(unrelated) < MIN_PAIRS:
        # Too few pairs for a quantile; what nonsense and absent words reach still raises the threshold.
        threshold = DEFAULT["threshold"]
        if nonsense_max is not None:
            threshold = max(threshold, nonsense_max + NONSENSE_MARGIN)
        if absent is not None and len(absent):
            threshold = max(threshold, float(np.quantile(absent, ABSENT_QUANTILE)))
        typical = max(DEFAULT["typical"], threshold + 0.05)
        return {**DEFAULT, "threshold": round(threshold, 4), "typical": round(typical, 4),
                "pairs": int(len(unrelated)), "default": True}  # fmt: skip
    floor = float(np.median(unrelated))
    threshold = float(np.quantile(unrelated, UNRELATED_QUANTILE))
    if nonsense_max is not None:
        threshold = max(threshold, nonsense_max + NONSENSE_MARGIN)
    absent_best = None
    if absent is not None and len(absent) >= MIN_PAIRS:
        absent_best = float(np.quantile(absent, ABSENT_QUANTILE))
        threshold = max(threshold, absent_best)
    typical = float(np.median(matching)) if len(matching) else threshold + 0.1
    typical = max(typical, threshold + 0.05)  # a signal that cannot tell matches apart still gets a scale
    return {
        "floor": round(floor, 4),
        "threshold": round(threshold, 4),
        "typical": round(typical, 4),
        "unrelated_quantile": UNRELATED_QUANTILE,
        "nonsense_max": None if nonsense_max is None else round(nonsense_max, 4),
        "absent_quantile": None if absent_best is None else round(absent_best, 4),
        "pairs": int(len(unrelated)),
        "matching_pairs": int(len(matching)),
    }


def _nearest_similarities(generation: EmbeddingGeneration, column: str, vectors: np.ndarray) -> np.ndarray:
    """For each of ``vectors``, the best cosine any product (any photo, for ``photo``) reaches in the catalog."""
    expression, dim = vector_expression(generation, column)
    table = "embeddings_imageembedding" if column == "photo" else "embeddings_productembedding"
    best = []
    with connection.cursor() as cursor:
        for vector in vectors:
            literal = "[" + ",".join(f"{x:.6g}" for x in vector) + "]"
            cursor.execute(
                f"SELECT 1 - ({expression} <=> %s::halfvec({dim})) FROM {table} WHERE generation_id = %s "
                f"ORDER BY {expression} <=> %s::halfvec({dim}) LIMIT 1",
                [literal, generation.pk, literal],
            )
            row = cursor.fetchone()
            if row and row[0] is not None:
                best.append(float(row[0]))
    return np.array(best)


def absent_words(count: int = ABSENT_WORDS) -> list[str]:
    """Common words of the shop's language that no product contains (by lexeme): queries for things the shop does
    not sell ("violin", "tractor", "mortgage" in a clothing shop), ``count`` of them, seeded. Empty without a
    language (``SEARCH_SPELLING_LANGUAGE``)."""
    language = settings.SEARCH_SPELLING_LANGUAGE
    if not language:
        return []
    from wordfreq import top_n_list

    words = [w for w in top_n_list(language, ABSENT_VOCABULARY) if w.isalpha() and len(w) >= 4]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT w FROM unnest(%s::text[]) w WHERE NOT EXISTS (SELECT 1 FROM unnest(tsvector_to_array("
            f"to_tsvector('{settings.SEARCH_TEXT_CONFIG}', w))) l WHERE l IN (SELECT word FROM ts_stat("
            "'SELECT document FROM search_searchdocument'))) AND to_tsvector(%s, w) <> ''::tsvector",
            [words, settings.SEARCH_TEXT_CONFIG],
        )
        absent = [row[0] for row in cursor.fetchall()]
    rng = np.random.default_rng(SEED)
    return sorted(rng.choice(absent, size=min(count, len(absent)), replace=False).tolist()) if absent else []


def _text_signals(generation: EmbeddingGeneration, products: list[tuple], encoders, head) -> dict[str, dict]:
    names = [row[1] for row in products]
    words = [_words(name) for name in names]
    categories = [row[2] for row in products]
    raw_queries = l2_normalize(encoders.text.encode_texts(names))
    joint_queries = head.project(raw_queries, "text")
    raw_nonsense = l2_normalize(encoders.text.encode_texts(nonsense_queries()))
    joint_nonsense = head.project(raw_nonsense, "text")
    absent = absent_words()
    raw_absent = l2_normalize(encoders.text.encode_texts(absent)) if absent else None
    joint_absent = head.project(raw_absent, "text") if absent else None
    has_categories = len({c for c in categories if c is not None}) >= 2  # one category separates nothing
    count = len(products)
    unrelated_mask = np.ones((count, count), dtype=bool)
    for i in range(count):
        for j in range(count):
            if i == j or (words[i] & words[j]) or (has_categories and categories[i] == categories[j]):
                unrelated_mask[i, j] = False
    result = {}
    columns = {"text_vector": 3, "aligned_image": 4, "fused": 5}
    for signal, column, side in TEXT_SIGNALS:
        index = columns[column]
        present = [i for i, row in enumerate(products) if row[index] is not None]
        if not present:
            continue
        targets = l2_normalize(np.array([products[i][index] for i in present]))
        queries = raw_queries if side == "raw" else joint_queries
        similarity = queries @ targets.T  # (all queries, products with this vector)
        matching = np.array([similarity[i, k] for k, i in enumerate(present)])
        unrelated = similarity[unrelated_mask[:, present]]
        nonsense = _nearest_similarities(generation, column, raw_nonsense if side == "raw" else joint_nonsense)
        absent_best = None
        if absent:
            absent_best = _nearest_similarities(generation, column, raw_absent if side == "raw" else joint_absent)
        result[f"text:{signal}"] = _summary(
            matching, unrelated, float(nonsense.max()) if len(nonsense) else None, absent_best
        )
    return result


def _photo_signals(generation: EmbeddingGeneration, photos: list[tuple], products: list[tuple]) -> dict[str, dict]:
    """Photo queries: each sampled photo against the other photos (image space: best photo per product) or the
    products' joint vectors; its own product's other photos are the matching pairs."""
    if len(photos) < 4:
        return {}
    owners = np.array([row[0] for row in photos])
    categories = np.array([-1 if row[1] is None else row[1] for row in photos])
    raw = l2_normalize(np.array([row[2] for row in photos]))
    same_product = owners[:, None] == owners[None, :]
    unrelated_mask = ~same_product & (categories[:, None] != categories[None, :])
    if len(set(categories[categories >= 0].tolist())) < 2:  # one category (or none) separates nothing
        unrelated_mask = ~same_product
    np.fill_diagonal(unrelated_mask, False)
    similarity = raw @ raw.T
    matching_mask = same_product.copy()
    np.fill_diagonal(matching_mask, False)
    result = {"photo:image": _summary(similarity[matching_mask], similarity[unrelated_mask], None)}
    # How close a catalog photo comes to some other product's photo: a query photo much further from every catalog
    # photo than that shows something else (a temple, a car in a clothing shop) and matches nothing at all.
    others = np.where(same_product, -1.0, similarity).max(axis=1)
    result["photo:domain"] = {
        "threshold": round(float(np.quantile(others, DOMAIN_QUANTILE)), 4),
        "quantile": DOMAIN_QUANTILE,
        "photos": int(len(photos)),
    }
    if generation.text_only or photos[0][3] is None:
        return result
    joint = l2_normalize(np.array([row[3] for row in photos]))
    by_product = {row[0]: row for row in products}
    for signal, index in (("cross_modal", 4), ("fused", 5)):
        # The photo's product: matching; products of other categories among the sampled ones: unrelated.
        own = [by_product.get(owner) for owner in owners]
        matching = np.array(
            [joint[k] @ _unit(row[index]) for k, row in enumerate(own) if row and row[index] is not None]
        )
        others = [row for row in products if row[index] is not None]
        if not others:
            continue
        targets = l2_normalize(np.array([row[index] for row in others]))
        other_categories = np.array([-1 if row[2] is None else row[2] for row in others])
        other_ids = np.array([row[0] for row in others])
        pairs = joint @ targets.T
        mask = (owners[:, None] != other_ids[None, :]) & (categories[:, None] != other_categories[None, :])
        result[f"photo:{signal}"] = _summary(matching, pairs[mask], None)
    return result


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / (np.linalg.norm(vector) or 1.0)


def _similar_signals(products: list[tuple]) -> dict[str, dict]:
    """Similar items: product against product; unrelated = another primary category (or, without categories, any
    other product). The threshold of similar items is the unrelated median: an item less similar than a typical
    unrelated pair is not shown as similar."""
    result = {}
    categories = np.array([-1 if row[2] is None else row[2] for row in products])
    columns = {"text_vector": 3, "fused": 5, "image_vector": 6}
    for signal, column in SIMILAR_SIGNALS:
        present = [i for i, row in enumerate(products) if row[columns[column]] is not None]
        if len(present) < 4:
            continue
        vectors = l2_normalize(np.array([products[i][columns[column]] for i in present]))
        cats = categories[present]
        similarity = vectors @ vectors.T
        unrelated = ~np.eye(len(present), dtype=bool)
        if len(set(cats[cats >= 0].tolist())) >= 2:
            unrelated &= cats[:, None] != cats[None, :]
        related = ~np.eye(len(present), dtype=bool) & (cats[:, None] == cats[None, :]) & (cats[:, None] >= 0)
        summary = _summary(similarity[related], similarity[unrelated], None)
        summary["threshold"] = summary["floor"]
        result[f"similar:{signal}"] = summary
    return result


def relevance_calibrate(*, generation: EmbeddingGeneration) -> dict:
    """Measure and store ``generation.relevance`` (the HNSW indexes must exist: nonsense strings are scored
    against the whole catalog through them)."""
    encoders, head = generation_models(generation)
    products = _sample_products(generation)
    signals: dict[str, dict] = {}
    if products:
        signals.update(_text_signals(generation, products, encoders, head))
        signals.update(_photo_signals(generation, _sample_photos(generation), products))
        signals.update(_similar_signals(products))
    relevance = {"signals": signals, "products_sampled": len(products)}
    generation.relevance = relevance
    EmbeddingGeneration.objects.filter(pk=generation.pk).update(relevance=relevance)
    logger.info(
        "generation %s relevance thresholds: %s",
        generation.pk,
        ", ".join(f"{name} {values['threshold']:.3f}" for name, values in sorted(signals.items())),
    )
    return relevance
