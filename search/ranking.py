"""Where hybrid ranking is decided: the ranked lists of the signals become one list.

Signals (each a list of (product id, raw score), best first):

- ``fulltext``: the keyword signal, BM25 of the query's words (typo corrections included) over the weighted
  document (name > categories, brand > attributes > description, reviews), computed in PostgreSQL
  (``search.keywords``);
- ``text_vector``: cosine of the query and the product document in the text encoder's space;
- ``cross_modal``: cosine of the query (through the alignment head) and the product's photos in the joint space,
  so "red running jacket" finds products whose photos look like one;
- ``fused``: cosine of the query and the product's fused (image + text) vector in the joint space;
- ``image``: for photo queries, the best cosine between the photo and the product's photos (image space).

Fusion is explicit: ``rrf`` (reciprocal rank fusion: sum of weight / (k + rank)) or ``weighted`` (sum of
weight * calibrated score). Calibration puts every signal on 0..1 on an absolute scale, the same for every query:
a cosine is 0 at its signal's "unrelated" floor and 1 at a typical match, both measured on the catalog when the
generation was built (``embeddings.services.calibration``; ``search.match_set`` hands the scales over); the
keyword signal's BM25 relative to the best keyword member. Only products in the match set are fused
(``search.match_set`` decides membership). Weights and k come from the settings and can be overridden per
request (the admin playground does).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

SIGNALS = ("fulltext", "text_vector", "cross_modal", "fused", "image")


@dataclass(frozen=True)
class FusionConfig:
    method: str = "rrf"
    weights: Mapping[str, float] = field(default_factory=dict)
    rrf_k: int = 60

    @classmethod
    def from_settings(
        cls, overrides: Mapping[str, float] | None = None, method: str | None = None, *, generation=None
    ) -> FusionConfig:
        """The settings' fusion, or the one tuned for ``generation`` when it has one (``evaluate --tune
        --store``); ``overrides`` and ``method`` (the staff's, for one query) go on top."""
        from django.conf import settings

        tuned = getattr(generation, "search_fusion", None)
        if tuned:
            base = cls.from_dict(tuned)
        else:
            base = cls(settings.SEARCH_FUSION, settings.SEARCH_SIGNAL_WEIGHTS, settings.SEARCH_RRF_K)
        weights = {**base.weights, **(overrides or {})}
        return cls(method=method or base.method, weights=weights, rrf_k=base.rrf_k)

    @classmethod
    def from_dict(cls, data: Mapping) -> FusionConfig:
        return cls(method=data["method"], weights=dict(data["weights"]), rrf_k=int(data.get("rrf_k", 60)))

    def as_dict(self) -> dict:
        return {"method": self.method, "weights": dict(self.weights), "rrf_k": self.rrf_k}


@dataclass
class Ranked:
    product_id: int
    score: float
    signals: dict[str, tuple[int, float]]  # signal -> (rank from 1, raw score)


@dataclass(frozen=True)
class Scale:
    """A vector signal's absolute scale (cosines): ``floor`` is what unrelated pairs typically reach, ``typical``
    what a matching pair typically reaches; ``threshold`` is where a candidate becomes evidence of a match."""

    floor: float
    threshold: float
    typical: float

    def calibrate(self, score: float) -> float:
        return min(1.0, max(0.0, (score - self.floor) / max(self.typical - self.floor, 1e-6)))


def fuse(
    signals: Mapping[str, Sequence[tuple[int, float]]],
    config: FusionConfig,
    scales: Mapping[str, Scale] | None = None,
) -> list[Ranked]:
    """One ranking from several; ties are broken by product id so that the order is stable. A signal without a
    scale (the keyword signal, or any signal when ``scales`` is not given) is calibrated relative to its best
    score."""
    if config.method not in ("rrf", "weighted"):
        raise ValueError(f"unknown fusion method {config.method!r}: use rrf or weighted")
    scales = scales or {}
    fused: dict[int, Ranked] = {}
    for name, hits in signals.items():
        weight = config.weights.get(name, 0.0)
        if not hits:
            continue
        scale = scales.get(name)
        high = max(score for _, score in hits)
        for rank, (product_id, score) in enumerate(hits, start=1):
            entry = fused.setdefault(product_id, Ranked(product_id, 0.0, {}))
            entry.signals[name] = (rank, score)
            if config.method == "rrf":
                entry.score += weight / (config.rrf_k + rank)
            else:
                entry.score += weight * (scale.calibrate(score) if scale else (score / high if high > 0 else 1.0))
    return sorted(fused.values(), key=lambda r: (-r.score, r.product_id))
