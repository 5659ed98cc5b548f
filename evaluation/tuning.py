"""Tuning on one set of queries, checked on a second, unseen set, in two steps:

1. the **relevance thresholds** of the vector signals (who joins the match set), per kind of query and signal,
   for the best mean F1 of the whole match set (coordinate search around the calibrated thresholds);
2. search's **fusion** (method, signal weights, RRF k) for the best NDCG@10, under those thresholds.

Each query's candidates are read once (``modes.prepare``); every configuration is then only a match set and a
``search.ranking.fuse`` in memory, so hundreds of configurations cost seconds, not hundreds of searches.
Similar-item queries do not depend on search's fusion and are left out.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from embeddings.models import EmbeddingGeneration
from search.match_set import signal_scales
from search.ranking import SIGNALS, FusionConfig

from .evalfiles import EvalQuery
from .metrics import match_set_scores, ndcg_at
from .modes import PreparedQuery, hybrid_ids, prepare

# Weights tried for each signal (a grid point and its multiples rank alike, so each ratio is tried once) and the
# RRF constants; 4 values for the 4 signals of a text query make 175 ratios x 3 methods = 525 fusions per query.
GRID_WEIGHTS = (0.0, 0.5, 1.0, 2.0)
GRID_RRF_K = (20, 60)
# Without a second set of files, this share of the queries (chosen by a hash of the query, so the same queries
# every run) is held out of the search and only measured at the end.
HOLDOUT_FRACTION = 3  # one query in 3
# Threshold steps tried around each calibrated threshold (cosine), and passes over the signals.
THRESHOLD_STEPS = (-0.15, -0.1, -0.075, -0.05, -0.025, 0.0, 0.025, 0.05, 0.075, 0.1, 0.15)
THRESHOLD_PASSES = 2


def holdout_split(queries: Sequence[EvalQuery]) -> tuple[list[EvalQuery], list[EvalQuery]]:
    """(tune, holdout): a deterministic split by a hash of each query."""
    tune, holdout = [], []
    for query in queries:
        key = f"{query.kind}|{query.text}|{query.image.name if query.image else ''}|{query.sku}"
        bucket = int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) % HOLDOUT_FRACTION
        (holdout if bucket == 0 else tune).append(query)
    return tune, holdout


def fusion_grid(
    signals: Sequence[str],
    base: FusionConfig,
    *,
    weights: Sequence[float] = GRID_WEIGHTS,
    rrf_ks: Sequence[int] = GRID_RRF_K,
) -> list[FusionConfig]:
    """``base`` first, then every ratio of ``weights`` over ``signals`` (the others keep ``base``'s weights), each
    with weighted fusion and with RRF at each k."""
    ratios = set()
    for values in itertools.product(weights, repeat=len(signals)):
        top = max(values)
        if top > 0:
            ratios.add(tuple(round(v / top, 6) for v in values))
    configs = [base]
    for ratio in sorted(ratios):
        merged = {**base.weights, **dict(zip(signals, ratio, strict=True))}
        configs.append(FusionConfig(method="weighted", weights=merged, rrf_k=base.rrf_k))
        configs += [FusionConfig(method="rrf", weights=merged, rrf_k=k) for k in rrf_ks]
    return configs


def mean_ndcg(
    prepared: Sequence[PreparedQuery],
    generation: EmbeddingGeneration,
    config: FusionConfig,
    skus: dict[int, str],
    thresholds: dict[str, float] | None = None,
) -> float:
    """Mean NDCG@10 of the queries with relevant products."""
    judged = [item for item in prepared if item.query.relevant]
    return _mean(
        judged, generation, config, skus, thresholds, lambda found, item: ndcg_at(found[:10], item.query.relevant)
    )


def mean_f1(
    prepared: Sequence[PreparedQuery],
    generation: EmbeddingGeneration,
    config: FusionConfig,
    skus: dict[int, str],
    thresholds: dict[str, float] | None = None,
) -> float:
    """Mean F1 of the whole match set; a query with no relevant product scores 1 when it finds nothing, else 0."""

    def f1(found: list[str], item: PreparedQuery) -> float:
        return match_set_scores(found, item.query.relevant)[2] if item.query.relevant else float(not found)

    return _mean(prepared, generation, config, skus, thresholds, f1)


def _mean(items, generation, config, skus, thresholds, score: Callable[[list[str], PreparedQuery], float]) -> float:
    """Mean of ``score(match set as skus, item)`` over ``items`` (0 without any)."""
    if not items:
        return 0.0
    found = ([skus.get(pid, "") for pid in hybrid_ids(item, generation, config, thresholds)] for item in items)
    return sum(score(skus_found, item) for skus_found, item in zip(found, items, strict=True)) / len(items)


def thresholds_tune(
    prepared: Sequence[PreparedQuery],
    generation: EmbeddingGeneration,
    config: FusionConfig,
    skus: dict[int, str],
    advance: Callable[[int], None] = lambda n: None,
) -> tuple[dict[str, float], dict[str, float]]:
    """(current, best) thresholds ("<kind>:<signal>" -> cosine) of the vector signals the queries use."""
    current: dict[str, float] = {}
    for item in prepared:
        if item.candidates is None:
            continue
        scales = signal_scales(generation, item.candidates.kind)
        for signal in item.candidates.vectors:
            if signal in scales:
                current.setdefault(f"{item.candidates.kind}:{signal}", scales[signal].threshold)
    best = dict(current)
    score = mean_f1(prepared, generation, config, skus, best)
    for _ in range(THRESHOLD_PASSES):
        for key in sorted(current):
            for step in THRESHOLD_STEPS:
                trial = {**best, key: round(current[key] + step, 4)}
                trial_score = mean_f1(prepared, generation, config, skus, trial)
                if trial_score > score + 1e-9:
                    best, score = trial, trial_score
                advance(1)
    return current, best


@dataclass
class TuneResult:
    baseline: FusionConfig
    best: FusionConfig
    signals: list[str]
    configs: int
    tune_queries: int
    holdout_queries: int
    tune_before: float
    tune_after: float
    holdout_before: float
    holdout_after: float
    thresholds_before: dict[str, float] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)
    f1: dict[str, float] = field(default_factory=dict)  # "tune_before", "tune_after", "holdout_before", ...

    @property
    def holdout_gain(self) -> float:
        return self.holdout_after - self.holdout_before

    @property
    def changed(self) -> bool:
        return self.best != self.baseline or self.thresholds != self.thresholds_before

    def search_fusion(self) -> dict:
        """What ``--store`` keeps on the new generation: the fusion and the thresholds."""
        return {**self.best.as_dict(), "thresholds": dict(self.thresholds)}

    def as_dict(self) -> dict:
        return {
            "baseline": self.baseline.as_dict(),
            "proposed": self.best.as_dict(),
            "signals_tuned": self.signals,
            "configurations_tried": self.configs,
            "thresholds_before": self.thresholds_before,
            "thresholds_proposed": self.thresholds,
            "tune": {"queries": self.tune_queries, "ndcg10_before": round(self.tune_before, 4),
                     "ndcg10_after": round(self.tune_after, 4), "match_f1_before": self.f1.get("tune_before"),
                     "match_f1_after": self.f1.get("tune_after")},
            "holdout": {"queries": self.holdout_queries, "ndcg10_before": round(self.holdout_before, 4),
                        "ndcg10_after": round(self.holdout_after, 4), "gain": round(self.holdout_gain, 4),
                        "match_f1_before": self.f1.get("holdout_before"),
                        "match_f1_after": self.f1.get("holdout_after")},
        }  # fmt: skip

    def __str__(self) -> str:
        weights = ", ".join(f"{name} {self.best.weights.get(name, 0):g}" for name in SIGNALS)
        thresholds = ", ".join(
            f"{key} {self.thresholds_before[key]:.3f} -> {value:.3f}" for key, value in sorted(self.thresholds.items())
        )
        return "\n".join([
            f"relevance thresholds: {thresholds or 'none (no vector signal)'}",
            f"tried {self.configs} fusion configurations over {', '.join(self.signals)}",
            f"proposed: {self.best.method}" + (f" (k={self.best.rrf_k})" if self.best.method == "rrf" else "")
            + f"; weights {weights}",
            f"tune set    ({self.tune_queries:>4} queries): NDCG@10 {self.tune_before:.4f} -> {self.tune_after:.4f}"
            f"; match-set F1 {self.f1['tune_before']:.4f} -> {self.f1['tune_after']:.4f}",
            f"holdout set ({self.holdout_queries:>4} queries): NDCG@10 {self.holdout_before:.4f} -> "
            f"{self.holdout_after:.4f} (gain {self.holdout_gain:+.4f}); match-set F1 {self.f1['holdout_before']:.4f} "
            f"-> {self.f1['holdout_after']:.4f}",
        ])  # fmt: skip


def fusion_tune(
    generation: EmbeddingGeneration,
    tune: Sequence[EvalQuery],
    holdout: Sequence[EvalQuery],
    skus: dict[int, str],
    *,
    weights: Sequence[float] = GRID_WEIGHTS,
    rrf_ks: Sequence[int] = GRID_RRF_K,
    advance: Callable[[int], None] = lambda n: None,
    total: Callable[[int], None] = lambda n: None,
) -> TuneResult:
    """The thresholds with the best mean match-set F1 on ``tune``, then the fusion grid point with the best mean
    NDCG@10 under them (text and photo queries), both measured on ``holdout`` too. Ties keep the generation's
    current settings. ``total(n)`` announces the steps, ``advance(1)`` makes one."""
    searchable = [q for q in tune if q.kind != "similar"]
    unseen = [q for q in holdout if q.kind != "similar"]
    if not searchable:
        raise ValueError("--tune needs text or photo queries (similar items do not use search's fusion)")
    baseline = FusionConfig.from_settings(generation=generation)
    total(len(searchable) + len(unseen))
    prepared_tune = [_prepared(generation, q, advance) for q in searchable]
    prepared_holdout = [_prepared(generation, q, advance) for q in unseen]
    signals = [s for s in SIGNALS if any(_has_signal(item, s) for item in prepared_tune)]
    keys = {f"{item.candidates.kind}:{s}" for item in prepared_tune if item.candidates for s in item.candidates.vectors}
    total(len(keys) * len(THRESHOLD_STEPS) * THRESHOLD_PASSES)
    before, thresholds = thresholds_tune(prepared_tune, generation, baseline, skus, advance)
    configs = fusion_grid(signals, baseline, weights=weights, rrf_ks=rrf_ks)
    total(len(configs))
    best, best_score = baseline, -1.0
    for config in configs:
        score = mean_ndcg(prepared_tune, generation, config, skus, thresholds)
        if score > best_score + 1e-12:
            best, best_score = config, score
        advance(1)
    f1 = {
        "tune_before": mean_f1(prepared_tune, generation, baseline, skus, before),
        "tune_after": mean_f1(prepared_tune, generation, best, skus, thresholds),
        "holdout_before": mean_f1(prepared_holdout, generation, baseline, skus, before),
        "holdout_after": mean_f1(prepared_holdout, generation, best, skus, thresholds),
    }
    return TuneResult(
        baseline=baseline,
        best=best,
        signals=signals,
        configs=len(configs),
        tune_queries=len(prepared_tune),
        holdout_queries=len(prepared_holdout),
        tune_before=mean_ndcg(prepared_tune, generation, baseline, skus, before),
        tune_after=best_score,
        holdout_before=mean_ndcg(prepared_holdout, generation, baseline, skus, before),
        holdout_after=mean_ndcg(prepared_holdout, generation, best, skus, thresholds),
        thresholds_before=before,
        thresholds=thresholds,
        f1={key: round(value, 4) for key, value in f1.items()},
    )


def _has_signal(item: PreparedQuery, signal: str) -> bool:
    found = item.candidates
    if found is None:
        return False
    return bool(found.keyword) if signal == "fulltext" else bool(found.vectors.get(signal))


def _prepared(generation: EmbeddingGeneration, query: EvalQuery, advance: Callable[[int], None]) -> PreparedQuery:
    item = prepare(generation, query)
    advance(1)
    return item
