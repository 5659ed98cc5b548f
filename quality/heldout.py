"""What a photo shows, judged by models that never saw it: photos in a joint space through alignment heads trained
without them, and the colour each photo shows through a colour reader trained without it.

The generation's own head was trained on every photo of the catalog against its product's texts, errors included:
a bag photo filed under a hoodie was pulled towards "hoodie" by the very training that should now judge it (on
a copy of luma-dev with 10 swapped photos, development seed 1 of bench/catalog_quality.py, 2 of them reached the
top 10 of the photo check through the generation's head, 8 through 5 held-out heads, 10 through 10). So the
quality check trains small heads, each on every photo but one fold (seeded), and projects each photo with the
head that did not see it. A head trained on 300 photos is a noisy judge (which photos share its fold and how it
starts decide much): ``ROUNDS`` rounds of ``FOLDS`` folds, each round with its own split and its own start, and
each photo is judged by the mean of its rounds' heads. On development seeds 1, 3, 4, 5, 6 and 8 of the bench the
photo check's top 10 held 7.3 planted photos on average with one round of 10 folds and the text alone (the check
before), 7.8 with the other witnesses of ``checks.photos_of_other_products`` and three rounds of 5 folds, 8.2 with
six rounds (30 heads, about 45 s on luma-dev); the rest were photos swapped between two products of one
category with one photo each (two tanks, two watches), which no witness here tells apart.

The heads learn from what the generation already stored, each photo's image vector against its product's document
vector, plus short phrases that say what a photo shows ("<colour> <category>" for the colours of its variants,
the category path), encoded once: nothing else is read or encoded again.

Colours are the catalog's own: luma-dev's "Blue" is teal and its "Red" pink, so no colour lexicon and no zero-shot
"a blue shirt" reads them right (through the held-out heads, "<colour> <category>" names a photo's stated colour
first for 56% of luma-dev's photos). The colour reader is a softmax regression from each photo's colour histogram,
read from its pixels (``COLOUR_READER_BINS``, ``selectors.photo_colour_histograms``), to the colour its variants
state, learned from the photos of the catalog's other products (one fold of products held out at a time; luma's
own colour words are loose): a stated colour is contradicted when its photos read as another colour of the palette.
On development seeds 1, 3, 4, 5, 6 and 8 of bench/catalog_quality.py the colour check's top 10 held 6.8 planted
colours on average with a reader of the image vectors (EfficientNet features and their 8-hue histogram), 7.3 with
the vectors and a 16-hue histogram of the pixels side by side, 8.0 with the 16-hue histogram alone.
"""

from __future__ import annotations

import logging

import numpy as np
from django.conf import settings

from embeddings.neural.encoders import set_threads
from embeddings.neural.head import HeadConfig, TrainingData, train_head

from .checks import CatalogVectors, HeldOut, colour_phrase

logger = logging.getLogger(__name__)

# Heads per check: ROUNDS x FOLDS, each trained on (FOLDS - 1) / FOLDS of the photos (about 1.5 s each on luma-dev,
# 323 photos, one core). See the module's docstring for why six rounds of five.
FOLDS = 5
ROUNDS = 6
# Above this many photos one round: a head that learns from thousands of photos is a steadier judge, and the rounds
# would multiply the check's longest phase (at 50,000 products with 64,000 photos a head trains on 20,000 photos in
# about 7 minutes on a loaded 2-core machine; bench/catalog_quality.py --scale 50000).
ROUNDS_PHOTOS_MAX = 5000
# The colour histogram the colour reader learns from, read from each photo's pixels (hue x saturation x value):
# twice the hue bins of the one appended to the image vectors (``embeddings.neural.encoders.COLOUR_BINS``), which
# puts red and orange, or a pinkish red and purple, in one bin. See ``colour_read``.
COLOUR_READER_BINS = (16, 4, 4)
# The colour reader's folds (the first round's): a softmax regression is cheap, 5 folds are plenty.
COLOUR_FOLDS = 5
# A colour with fewer photos than this (outside the product judged) cannot be learned: it is not judged, and never
# offered as what a photo "looks" (luma-dev's single "Lavender" photo).
MIN_COLOUR_PHOTOS = 3
# Softmax regression: gradient steps (Adam) and the L2 penalty per photo (scikit-learn's C=1).
COLOUR_STEPS = 300
COLOUR_STEP_SIZE = 0.05
SEED = 20261207
# A head's joint space: smaller than the generation's (256), enough for a catalog's categories and colours.
JOINT_DIM = 128
# Photos a head trains on at most (a seeded sample of its folds): training time grows with photos, and 20,000
# photos teach a linear head what a larger catalog would (about a minute per head on one core).
TRAIN_PHOTOS_MAX = 20000


def category_phrase(category: str | None) -> str:
    return (category or "").replace("/", " ").strip()


def heldout_project(
    *, vectors: CatalogVectors, encode_texts, folds: int = FOLDS, rounds: int | None = None
) -> HeldOut | None:
    """Train ``rounds`` x ``folds`` heads (``encode_texts``: the generation's text encoder, for the phrases;
    ``rounds`` by default ROUNDS, 1 above ROUNDS_PHOTOS_MAX photos) and project every photo with each round's head
    that did not see it. None when the catalog has too few photos to train a head on."""
    photos = len(vectors.photo_ids)
    if photos < max(settings.EMBEDDING_MIN_TRAINING_PHOTOS, 2 * folds):
        logger.info("quality check: %d photos, too few for held-out heads; no photo or colour checks", photos)
        return None
    if rounds is None:
        rounds = ROUNDS if photos <= ROUNDS_PHOTOS_MAX else 1
    set_threads(settings.EMBEDDING_TORCH_THREADS)
    # Text rows: every product's document vector, then each (product, phrase) its photos are paired with.
    pair_rows: dict[tuple[int, str], int] = {}
    texts_of_image = []
    for photo in range(photos):
        product = int(vectors.photo_product[photo])
        category = vectors.categories[product]
        phrases = [colour_phrase(c, category) for c in vectors.photo_colours[photo]] + [category_phrase(category)]
        texts_of_image.append([product] + [
            pair_rows.setdefault((product, text), len(vectors.skus) + len(pair_rows)) for text in phrases if text
        ])  # fmt: skip
    distinct = sorted({text for _product, text in pair_rows})
    encoded = dict(zip(distinct, np.asarray(encode_texts(distinct), dtype=np.float32), strict=True))
    rows = [vectors.text] + [encoded[text][None, :] for _product, text in pair_rows]
    groups = list(range(len(vectors.skus))) + [product for product, _text in pair_rows]
    text_features = np.concatenate(rows).astype(np.float32)
    text_groups = np.array(groups)

    rng = np.random.default_rng(SEED)
    fold_of = np.stack([rng.permutation(photos) % folds for _round in range(rounds)])
    photo_joint = np.zeros((rounds, photos, JOINT_DIM), dtype=np.float32)
    product_text = np.zeros((rounds, folds, len(vectors.skus), JOINT_DIM), dtype=np.float32)
    for round_ in range(rounds):
        # Each round's heads start from their own seed too: the rounds differ in initialisation, not only in split.
        config = HeadConfig(joint_dim=JOINT_DIM, seed=SEED + round_)
        for fold in range(folds):
            train = np.where(fold_of[round_] != fold)[0]
            if len(train) > TRAIN_PHOTOS_MAX:
                train = np.sort(rng.choice(train, size=TRAIN_PHOTOS_MAX, replace=False))
            data = TrainingData(
                image_features=vectors.photo_image[train],
                image_groups=vectors.photo_product[train],
                text_features=text_features,
                text_groups=text_groups,
                texts_of_image=[texts_of_image[i] for i in train],
            )
            head, report = train_head(data, config)
            logger.info(
                "quality check: held-out head %d/%d of round %d/%d, %d photos, %d epochs, validation loss %.3f, %.1f s",
                fold + 1, folds, round_ + 1, rounds, len(train), report.epochs, report.validation_loss, report.seconds,
            )  # fmt: skip
            held = np.where(fold_of[round_] == fold)[0]
            photo_joint[round_, held] = head.project(vectors.photo_image[held], "image")
            product_text[round_, fold] = head.project(vectors.text, "text")
    palette, colour_log_probability = colour_read(vectors=vectors, fold=colour_folds(vectors))
    return HeldOut(
        fold=fold_of,
        photo_joint=photo_joint,
        product_text=product_text,
        palette=palette,
        colour_log_probability=colour_log_probability,
        colour_aliases=colour_aliases(vectors=vectors, palette=palette, encode_texts=encode_texts),
    )


def colour_folds(vectors: CatalogVectors) -> np.ndarray:
    """The colour reader's fold of each photo: its product's (seeded), so that the reader never learns a product's
    colour from that product's other photos. Folded by photo, a product whose stated colour is wrong taught the
    reader its own error through its other views (development seeds 1, 3 and 4 of bench/catalog_quality.py: the
    colour check's top 10 held 6.0 planted colours on average either way, average precision 0.68 by photo, 0.68
    by product; with the smallest margin over the photos, 6.3 and 0.70 by product)."""
    product_fold = np.random.default_rng(SEED).permutation(len(vectors.skus)) % COLOUR_FOLDS
    return product_fold[vectors.photo_product]


def colour_aliases(*, vectors: CatalogVectors, palette: list[str], encode_texts) -> dict[str, str]:
    """Each stated colour outside the reader's ``palette`` (too few photos to learn) -> the palette colour whose
    "<colour> <category>" phrase the text encoder puts nearest, over the categories of the products stating it
    (luma-dev's MiniLM: "Lavender Pants" -> "Purple Pants" 0.73, "Gray Pants" 0.70; the bare names alone give
    Gray). Without it such a colour was never judged: a planted "Lavender" on a blue product (development seeds 1
    and 3 of bench/catalog_quality.py) could not be found."""
    unknown = sorted({c for colours in vectors.colours for c in colours} - set(palette))
    if not unknown or len(palette) < 2:
        return {}
    aliases = {}
    for colour in unknown:
        categories = sorted({vectors.categories[p] for p, stated in enumerate(vectors.colours) if colour in stated})
        phrases = [colour_phrase(c, category) for category in categories for c in [colour, *palette]]
        encoded = np.asarray(encode_texts(phrases), dtype=np.float32).reshape(len(categories), len(palette) + 1, -1)
        encoded /= np.maximum(np.linalg.norm(encoded, axis=-1, keepdims=True), 1e-12)
        similarity = np.einsum("cd,cpd->cp", encoded[:, 0], encoded[:, 1:]).mean(axis=0)
        aliases[colour] = palette[int(similarity.argmax())]
    return aliases


def colour_read(*, vectors: CatalogVectors, fold: np.ndarray) -> tuple[list[str], np.ndarray]:
    """The palette (colours with at least MIN_COLOUR_PHOTOS photos stating them alone) and, for every photo, the
    log-probability of each colour from a reader trained without the photo's fold: (photos, colours)."""
    counts: dict[str, int] = {}
    for colours in vectors.photo_colours:
        if len(colours) == 1:
            counts[colours[0]] = counts.get(colours[0], 0) + 1
    palette = sorted(c for c, n in counts.items() if n >= MIN_COLOUR_PHOTOS)
    result = np.zeros((len(vectors.photo_ids), len(palette)), dtype=np.float32)
    if len(palette) < 2:
        return [], result[:, :0]
    labels = np.array([palette.index(c[0]) if len(c) == 1 and c[0] in palette else -1 for c in vectors.photo_colours])
    features = vectors.photo_image if vectors.photo_colour is None else vectors.photo_colour
    rng = np.random.default_rng(SEED)
    for k in range(int(fold.max()) + 1):
        train = np.where((fold != k) & (labels >= 0))[0]
        if len(train) > TRAIN_PHOTOS_MAX:
            train = np.sort(rng.choice(train, size=TRAIN_PHOTOS_MAX, replace=False))
        held = np.where(fold == k)[0]
        if len(set(labels[train].tolist())) < 2 or not len(held):
            continue
        weights, bias = _softmax_regression(features[train], labels[train], len(palette))
        logits = features[held] @ weights + bias
        logits -= logits.max(axis=1, keepdims=True)
        result[held] = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return palette, result


def _softmax_regression(features: np.ndarray, labels: np.ndarray, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression with an L2 penalty, by Adam from zero (deterministic): (weights, bias)."""
    count, dim = features.shape
    penalty = 1.0 / (2.0 * count)
    targets = np.eye(classes)[labels]
    params = [np.zeros((dim, classes)), np.zeros(classes)]
    first = [np.zeros_like(p) for p in params]
    second = [np.zeros_like(p) for p in params]
    for step in range(1, COLOUR_STEPS + 1):
        logits = features @ params[0] + params[1]
        logits -= logits.max(axis=1, keepdims=True)
        probability = np.exp(logits)
        probability /= probability.sum(axis=1, keepdims=True)
        error = (probability - targets) / count
        grads = [features.T @ error + 2 * penalty * params[0], error.sum(axis=0)]
        for i, grad in enumerate(grads):
            first[i] = 0.9 * first[i] + 0.1 * grad
            second[i] = 0.999 * second[i] + 0.001 * grad * grad
            corrected = first[i] / (1 - 0.9**step)
            params[i] -= COLOUR_STEP_SIZE * corrected / (np.sqrt(second[i] / (1 - 0.999**step)) + 1e-8)
    return params[0], params[1]
