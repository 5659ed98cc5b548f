"""Where a product enters a search's match set, and nothing else does.

A product is in the match set of a search only on evidence that it matches:

- **text search**: it matches the query's words (``search.keywords``: it is of the kind the query names, or it
  has every word), or, when the query names no category of the shop, the text vector finds it at or above its
  relevance threshold (``ADMITTING_SIGNALS``);
- **photo search**: when the photo looks like the catalog's photos at all (its nearest catalog photo, under the
  filters, reaches the calibrated ``photo:domain`` gate), a vector signal (the photo against product photos, or
  the photo's joint-space vector against products) finds it at or above the threshold.

Thresholds and the absolute scales fusion uses come from the generation's calibration (``generation.relevance``,
``embeddings.services.calibration``), then ``evaluate --tune --store`` (``search_fusion["thresholds"]``), then
the settings (``SEARCH_RELEVANCE_THRESHOLDS``), each overriding the one before. The total, the facets and
"no results" are those of the match set; a nonsense query has none. Ranking inside it is ``search.ranking``'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from django.conf import settings

from embeddings.models import EmbeddingGeneration

from .facets import document_counts, facets_from_counts
from .ranking import FusionConfig, Ranked, Scale, fuse
from .types import Candidates

# The signals whose similarity alone admits a product to a text search's match set: the text encoder's own space,
# where the query's words and the product's text are compared. The joint-space signals of a text query (the same
# text vector through an alignment head trained on a few hundred photos) rank the members but admit none: they put
# unrelated words near some photos ("wedding ring" by a pullover's photos at cosine 0.54, where matches start at
# 0.5). A photo search is admitted by any of its signals (the photo's own space and the joint space).
ADMITTING_SIGNALS = {"text": ("text_vector",)}
# A photo whose nearest catalog photo is further than this gate shows something the shop does not sell.
PHOTO_DOMAIN = "photo:domain"
# Used for a generation built before calibration existed (run ``manage.py generations calibrate``).
UNCALIBRATED = Scale(floor=0.2, threshold=0.5, typical=0.8)


@dataclass
class MatchSet:
    ranking: list[Ranked]  # every member read, best first
    total: int
    facets: dict[str, list[dict]]
    # What the search log keeps of the joint space's health (``search.analytics.joint_space_health``): each vector
    # signal's best raw similarity among its candidates (before thresholds), and whether a signal that admits for
    # this kind of query reached its threshold (a photo: past the domain gate too). None: no vector signal ran.
    best_similarity: dict[str, float] = field(default_factory=dict)
    vector_covered: bool | None = None
    # The members only vectors admitted (the others are the keyword members, found again by their match condition
    # when another sort than relevance orders the whole set: ``search.sorting``).
    vector_only: set[int] = field(default_factory=set)


def _coverage(
    candidates: Candidates, generation: EmbeddingGeneration | None, scales: Mapping[str, Scale], gate: float | None
) -> tuple[dict[str, float], bool | None]:
    """(signal -> best similarity, covered) of ``candidates`` (hits are sorted best first): numbers already in
    memory, no query. Without a generation (keyword-only search) nothing is known: ({}, None)."""
    if generation is None:
        return {}, None
    best = {signal: round(hits[0].score, 4) for signal, hits in candidates.vectors.items() if hits}
    admitting = ADMITTING_SIGNALS.get(candidates.kind)
    if gate is not None and best.get("image", -1.0) < gate:
        return best, False
    covered = any(
        hits[0].score >= scales[signal].threshold
        for signal, hits in candidates.vectors.items()
        if hits and (admitting is None or signal in admitting)
    )
    return best, covered


def _thresholds(
    generation: EmbeddingGeneration, thresholds: Mapping[str, float] | None = None
) -> dict[str, tuple[float, str]]:
    """Every threshold in effect ("<kind>:<signal>" -> (threshold, source)): calibrated, then tuned (``evaluate
    --tune --store``), then settings, then ``thresholds`` (``evaluate --tune`` trying some), each overriding the
    one before."""
    calibrated = (generation.relevance or {}).get("signals", {})
    layers = (
        ("calibrated", {key: values["threshold"] for key, values in calibrated.items()}),
        ("tuned", (generation.search_fusion or {}).get("thresholds", {})),
        ("settings", settings.SEARCH_RELEVANCE_THRESHOLDS),
        ("evaluate", thresholds or {}),
    )
    return {key: (float(value), source) for source, layer in layers for key, value in layer.items()}


def signal_scales(
    generation: EmbeddingGeneration | None, kind: str, thresholds: Mapping[str, float] | None = None
) -> dict[str, Scale]:
    """Signal -> absolute scale and threshold for queries of ``kind`` ("text", "photo", "similar");
    ``thresholds`` ("<kind>:<signal>" -> threshold, ``evaluate --tune`` trying some) override everything."""
    if generation is None:
        return {}
    calibrated = (generation.relevance or {}).get("signals", {})
    scales = {}
    prefix = f"{kind}:"
    for key, (threshold, _source) in _thresholds(generation, thresholds).items():
        if not key.startswith(prefix) or key == PHOTO_DOMAIN:
            continue
        base = calibrated.get(key)
        scale = Scale(base["floor"], base["threshold"], base["typical"]) if base else UNCALIBRATED
        scales[key[len(prefix) :]] = Scale(scale.floor, threshold, max(scale.typical, threshold + 0.01))
    return scales


def photo_domain_gate(generation: EmbeddingGeneration | None) -> float | None:
    """The similarity a photo query's nearest catalog photo must reach for the photo to match anything (calibrated:
    ``photo:domain``; overridable like the thresholds)."""
    if generation is None:
        return None
    gate = _thresholds(generation).get(PHOTO_DOMAIN)
    return None if gate is None else gate[0]


def thresholds_overview(generation: EmbeddingGeneration) -> list[tuple[str, float, str]]:
    """Every signal's threshold in effect, with where it comes from ("calibrated", "tuned", "settings"), for the
    admin's operations page."""
    return [(key, value, source) for key, (value, source) in sorted(_thresholds(generation).items())]


def match_set(
    candidates: Candidates,
    generation: EmbeddingGeneration | None,
    config: FusionConfig,
    thresholds: Mapping[str, float] | None = None,
) -> MatchSet:
    """The members among ``candidates``, ranked, with the exact total and facets of the whole match set."""
    scales = signal_scales(generation, candidates.kind, thresholds)
    for signal in candidates.vectors:
        scales.setdefault(signal, UNCALIBRATED)
    keyword_ids = {product_id for product_id, _ in candidates.keyword}
    gate = photo_domain_gate(generation) if candidates.kind == "photo" else None
    best, covered = _coverage(candidates, generation, scales, gate)
    image_hits = candidates.vectors.get("image", [])
    if gate is not None and (not image_hits or max(hit.score for hit in image_hits) < gate):
        return MatchSet(
            ranking=[], total=0, facets=facets_from_counts([]), best_similarity=best, vector_covered=covered
        )
    members: set[int] = set()  # found by vectors: keyword members beyond the list read, and vector-only ones
    vector_only: set[int] = set()
    for signal, hits in candidates.vectors.items():
        threshold = scales[signal].threshold
        admits = signal in ADMITTING_SIGNALS.get(candidates.kind, (signal,)) and not candidates.names_category
        for hit in hits:
            if hit.keyword_member:
                members.add(hit.product_id)
            elif admits and hit.score >= threshold:
                members.add(hit.product_id)
                vector_only.add(hit.product_id)
    lists: dict[str, list[tuple[int, float]]] = {}
    keyword_list = list(candidates.keyword)
    partial = {}
    for hits in candidates.vectors.values():
        for hit in hits:
            if hit.product_id in members and hit.product_id not in keyword_ids and hit.keyword_score > 0:
                partial[hit.product_id] = hit.keyword_score
    keyword_list += sorted(partial.items(), key=lambda item: (-item[1], item[0]))
    if keyword_list:
        lists["fulltext"] = sorted(keyword_list, key=lambda item: (-item[1], item[0]))
    for signal, hits in candidates.vectors.items():
        kept = [
            (hit.product_id, hit.score) for hit in hits if hit.product_id in members or hit.product_id in keyword_ids
        ]
        if kept:
            lists[signal] = kept
    ranking = fuse(lists, config, scales)
    counts = document_counts(candidates.docs[product_id] for product_id in vector_only if product_id in candidates.docs)
    for key, count in candidates.keyword_facets:
        counts[key] += count
    return MatchSet(
        ranking=ranking,
        total=candidates.keyword_total + len(vector_only),
        facets=facets_from_counts(counts.items()),
        best_similarity=best,
        vector_covered=covered,
        vector_only=vector_only,
    )
