"""An evaluation run: evaluation files -> per file, per kind of query and per retrieval mode, the metrics of the
evaluation format; as a table, as JSON, as a chart, and checked against CI gates (``--fail-below``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from catalog.models import Product
from embeddings.models import EmbeddingGeneration

from .evalfiles import EvalQuery
from .metrics import Figures, summarize
from .modes import MODE_LABELS, MODES, PreparedQuery, generation_modes, mode_rankings, prepare

# The metrics reported for each kind of query (precision@5 for similar items only; the whole result set's
# precision, recall and F1 for text and photo queries; the zero-result rate of text queries whose relevant set is
# empty), in table order.
METRICS = {"ndcg10": "NDCG@10", "recall1": "R@1", "recall10": "R@10", "mrr": "MRR", "precision5": "P@5",
           "match_precision": "set P", "match_recall": "set R", "match_f1": "set F1",
           "zero_result_rate": "0-result"}  # fmt: skip
SET_METRICS = ("match_precision", "match_recall", "match_f1")
KIND_METRICS = {"text": ("ndcg10", "recall10", "mrr", *SET_METRICS, "zero_result_rate"),
                "photo": ("ndcg10", "recall1", "recall10", "mrr", *SET_METRICS),
                "similar": ("ndcg10", "recall10", "mrr", "precision5")}  # fmt: skip
# Names a gate may use for each metric, compared without case or punctuation: "NDCG@10" is "ndcg10", "R@10" is
# "recall@10", "P@5" is "precision@5", "set F1" is "match_f1" or "f1", "0-result" is "zero-result".
METRIC_ALIASES = {re.sub(r"[^a-z0-9]", "", name.lower()): key for key, label in METRICS.items()
                  for name in (key, label)} | {"zeroresult": "zero_result_rate", "f1": "match_f1"}  # fmt: skip


def metric_value(kind: str, figures: Figures, key: str) -> float | None:
    """A group's figure, or None where it means nothing: a metric of another kind, ranking metrics of a group of
    absent-product queries only, a zero-result rate without such queries."""
    if key not in KIND_METRICS[kind]:
        return None
    if key == "zero_result_rate":
        return figures.zero_result_rate if figures.absent_queries else None
    return getattr(figures, key) if figures.queries else None


@dataclass
class GroupReport:
    """One file's queries of one kind, with each mode's figures."""

    file: str
    kind: str
    queries: int
    modes: dict[str, Figures]
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "kind": self.kind,
            "queries": self.queries,
            "modes": {
                mode: {
                    m: None if (value := metric_value(self.kind, figures, m)) is None else round(value, 4)
                    for m in KIND_METRICS[self.kind]
                }
                for mode, figures in self.modes.items()
            },
            "problems": self.problems,
        }


@dataclass
class Report:
    generation: int
    products: int
    groups: list[GroupReport]

    def as_dict(self) -> dict:
        return {
            "generation": self.generation,
            "products": self.products,
            "modes": {mode: MODE_LABELS[mode] for mode in MODES},
            "files": [group.as_dict() for group in self.groups],
        }


def evaluation_run(
    generation: EmbeddingGeneration,
    files: dict[str, list[EvalQuery]],
    *,
    advance: Callable[[int], None] = lambda n: None,
) -> Report:
    """Run every query of ``files`` (name -> queries) in every mode of its kind; ``advance(1)`` after each query."""
    skus = dict(Product.objects.values_list("id", "sku"))
    groups = []
    for name, queries in files.items():
        by_kind: dict[str, list[EvalQuery]] = {}
        for query in queries:
            by_kind.setdefault(query.kind, []).append(query)
        for kind, group in by_kind.items():
            rankings: dict[str, list[list[str]]] = {mode: [] for mode in generation_modes(generation, kind)}
            sets: dict[str, list[list[str]]] = {mode: [] for mode in generation_modes(generation, kind)}
            problems = []
            for query in group:
                prepared: PreparedQuery = prepare(generation, query)
                for mode, (ranking, found) in mode_rankings(generation, prepared, skus).items():
                    rankings[mode].append(ranking)
                    sets[mode].append(found)
                if prepared.problem:
                    problems.append(prepared.problem)
                advance(1)
            relevants = [query.relevant for query in group]
            modes = {mode: summarize(ranked, relevants, sets[mode]) for mode, ranked in rankings.items()}
            groups.append(GroupReport(file=name, kind=kind, queries=len(group), modes=modes, problems=problems))
    return Report(generation=generation.pk, products=len(skus), groups=groups)


def report_table(report: Report) -> str:
    """The report as a fixed-width table, one row per file, kind and mode."""
    width = max([len("file")] + [len(group.file) for group in report.groups])
    header = f"{'file':<{width}}  {'kind':<7}  {'queries':>7}  {'mode':<24}" + "".join(
        f"  {label:>8}" for label in METRICS.values()
    )
    lines = [f"generation {report.generation}, {report.products} products", header, "-" * len(header)]
    for group in report.groups:
        for mode, figures in group.modes.items():
            values = [metric_value(group.kind, figures, key) for key in METRICS]
            cells = "".join(f"  {'-':>8}" if value is None else f"  {value:>8.3f}" for value in values)
            lines.append(f"{group.file:<{width}}  {group.kind:<7}  {group.queries:>7}  {MODE_LABELS[mode]:<24}{cells}")
        for problem in group.problems:
            lines.append(f"  {group.file}: {problem} (counted as finding nothing)")
    return "\n".join(lines)


# --- CI gates -----------------------------------------------------------------------------------------------------


class GateSyntaxError(ValueError):
    pass


@dataclass(frozen=True)
class Gate:
    """``[MODE:]METRIC=VALUE``: every file's ``MODE`` (default: the production hybrid) must reach ``VALUE``."""

    mode: str
    metric: str
    value: float

    def __str__(self) -> str:
        return f"{self.mode}:{self.metric}>={self.value:g}"


def gate_parse(text: str) -> Gate:
    usage = "use [MODE:]METRIC=VALUE, e.g. ndcg@10=0.85 or fulltext:mrr=0.5"
    left, equals, right = text.partition("=")
    if not equals or not left.strip() or not right.strip():
        raise GateSyntaxError(f"--fail-below {text!r}: {usage}")
    mode, colon, metric = left.strip().rpartition(":")
    mode = mode.strip() if colon else "hybrid"
    if mode not in MODES:
        raise GateSyntaxError(f"--fail-below {text!r}: unknown mode {mode!r} (modes: {', '.join(MODES)})")
    key = METRIC_ALIASES.get(re.sub(r"[^a-z0-9]", "", metric.lower()))
    if key is None:
        raise GateSyntaxError(f"--fail-below {text!r}: unknown metric {metric!r} (metrics: {', '.join(METRICS)})")
    try:
        value = float(right)
    except ValueError:
        raise GateSyntaxError(f"--fail-below {text!r}: {right!r} is not a number; {usage}") from None
    return Gate(mode=mode, metric=key, value=value)


def gates_check(report: Report, gates: list[Gate]) -> tuple[list[str], int]:
    """Failures (one line each) and the number of figures checked. A gate checks every file and kind that has its
    mode and metric (precision@5: similar items only)."""
    failures, checked = [], 0
    for gate in gates:
        for group in report.groups:
            figures = group.modes.get(gate.mode)
            value = None if figures is None else metric_value(group.kind, figures, gate.metric)
            if value is None:
                continue
            checked += 1
            if value < gate.value:
                failures.append(
                    f"{group.file} ({group.kind}, {MODE_LABELS[gate.mode]}): {METRICS[gate.metric]} {value:.4f} "
                    f"is below {gate.value:g}"
                )
    return failures, checked


# --- chart --------------------------------------------------------------------------------------------------------


def report_plot(report: Report, path: Path) -> None:
    """A PNG with one panel per metric: for every file (and kind) that has the metric, one bar per mode."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [key for key in METRICS if any(metric_value(g.kind, f, key) is not None for g in report.groups
                                           for f in g.modes.values())]  # fmt: skip
    columns = max(len(report.groups), 1)
    fig, axes = plt.subplots(len(shown), 1, figsize=(max(6.0, 2.2 * columns + 2), 2.8 * len(shown)), squeeze=False)
    bar = 0.8 / len(MODES)
    for axis, key in zip(axes[:, 0], shown, strict=True):
        groups = [group for group in report.groups if key in KIND_METRICS[group.kind]]
        for i, mode in enumerate(MODES):
            xs = [x - 0.4 + bar * (i + 0.5) for x, group in enumerate(groups) if mode in group.modes]
            heights = [
                metric_value(group.kind, group.modes[mode], key) or 0.0 for group in groups if mode in group.modes
            ]
            axis.bar(xs, heights, width=bar, label=MODE_LABELS[mode], color=f"C{i}")
        axis.set_xticks(range(len(groups)), [f"{Path(g.file).name} ({g.kind})" for g in groups], fontsize=8)
        axis.set_xlim(-0.5, columns - 0.5)
        axis.set_ylim(0, 1.05)
        axis.set_ylabel(METRICS[key])
        axis.grid(axis="y", alpha=0.3)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    # The title on top, the legend under it: both above the panels.
    fig.suptitle(f"Retrieval modes, generation {report.generation} ({report.products} products)", y=0.998)
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.985), ncol=len(MODES), fontsize=7,
               frameon=False)  # fmt: skip
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    fig.savefig(path, dpi=110)
    plt.close(fig)
