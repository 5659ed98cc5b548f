"""Grid search of search's fusion (method, signal weights, RRF k) for the best NDCG@10 on one set of queries,
checked on a second, unseen set.

Each query's candidate lists are read once (``modes.prepare``); every configuration of the grid is then only a
``search.ranking.fuse`` in memory, so a grid of hundreds of configurations costs seconds, not hundreds of searches.
Similar-item queries do not depend on search's fusion and are left out.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from embeddings.models import EmbeddingGeneration
from search.ranking import SIGNALS, FusionConfig

from .evalfiles import EvalQuery
from .metrics import ndcg_at
from .modes import PreparedQuery, fused_ids, prepare

# Weights tried for each signal (a grid point and its multiples rank alike, so each ratio is tried once) and the
# RRF constants; 4 values for the 4 signals of a text query make 175 ratios x 3 methods = 525 fusions per query.
GRID_WEIGHTS = (0.0, 0.5, 1.0, 2.0)
GRID_RRF_K = (20, 60)
# Without a second set of files, this share of the queries (chosen by a hash of the query, so the same queries
# every run) is held out of the search and only measured at the end.
HOLDOUT_FRACTION = 3  # one query in 3


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


def mean_ndcg(prepared: Sequence[PreparedQuery], config: FusionConfig, skus: dict[int, str]) -> float:
    if not prepared:
        return 0.0
    total = 0.0
    for item in prepared:
        ranking = [skus.get(pid, "") for pid in fused_ids(item, config)]
        total += ndcg_at(ranking, item.query.relevant)
    return total / len(prepared)


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

    @property
    def holdout_gain(self) -> float:
        return self.holdout_after - self.holdout_before

    def as_dict(self) -> dict:
        return {
            "baseline": self.baseline.as_dict(),
            "proposed": self.best.as_dict(),
            "signals_tuned": self.signals,
            "configurations_tried": self.configs,
            "tune": {"queries": self.tune_queries, "ndcg10_before": round(self.tune_before, 4),
                     "ndcg10_after": round(self.tune_after, 4)},
            "holdout": {"queries": self.holdout_queries, "ndcg10_before": round(self.holdout_before, 4),
                        "ndcg10_after": round(self.holdout_after, 4), "gain": round(self.holdout_gain, 4)},
        }  # fmt: skip

    def __str__(self) -> str:
        weights = ", ".join(f"{name} {self.best.weights.get(name, 0):g}" for name in SIGNALS)
        return "\n".join([
            f"tried {self.configs} fusion configurations over {', '.join(self.signals)}",
            f"proposed: {self.best.method}" + (f" (k={self.best.rrf_k})" if self.best.method == "rrf" else "")
            + f"; weights {weights}",
            f"tune set    ({self.tune_queries:>4} queries): NDCG@10 {self.tune_before:.4f} -> {self.tune_after:.4f}",
            f"holdout set ({self.holdout_queries:>4} queries): NDCG@10 {self.holdout_before:.4f} -> "
            f"{self.holdout_after:.4f} (gain {self.holdout_gain:+.4f})",
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
    """The grid point with the best mean NDCG@10 on ``tune`` (text and photo queries), measured on ``holdout``
    too. Ties keep the generation's current fusion. ``total(n)`` announces the steps, ``advance(1)`` makes one."""
    searchable = [q for q in tune if q.kind != "similar"]
    unseen = [q for q in holdout if q.kind != "similar"]
    if not searchable:
        raise ValueError("--tune needs text or photo queries (similar items do not use search's fusion)")
    baseline = FusionConfig.from_settings(generation=generation)
    total(len(searchable) + len(unseen))
    prepared_tune = [_prepared(generation, q, advance) for q in searchable]
    prepared_holdout = [_prepared(generation, q, advance) for q in unseen]
    signals = [s for s in SIGNALS if any(item.lists.get(s) for item in prepared_tune)]
    configs = fusion_grid(signals, baseline, weights=weights, rrf_ks=rrf_ks)
    total(len(configs))
    best, best_score = baseline, -1.0
    for config in configs:
        score = mean_ndcg(prepared_tune, config, skus)
        if score > best_score + 1e-12:
            best, best_score = config, score
        advance(1)
    return TuneResult(
        baseline=baseline,
        best=best,
        signals=signals,
        configs=len(configs),
        tune_queries=len(prepared_tune),
        holdout_queries=len(prepared_holdout),
        tune_before=mean_ndcg(prepared_tune, baseline, skus),
        tune_after=best_score,
        holdout_before=mean_ndcg(prepared_holdout, baseline, skus),
        holdout_after=mean_ndcg(prepared_holdout, best, skus),
    )


def _prepared(generation: EmbeddingGeneration, query: EvalQuery, advance: Callable[[int], None]) -> PreparedQuery:
    item = prepare(generation, query)
    advance(1)
    return item
