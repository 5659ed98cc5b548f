"""``python manage.py evaluate PATH...``: search quality on evaluation files, per retrieval mode; CI gates;
``--tune`` proposes fusion weights (and can store them in a new generation)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from catalog.models import Product
from embeddings.models import EmbeddingGeneration
from embeddings.selectors import active_generation
from embeddings.services.generations import GenerationError, generation_copy
from evaluation.evalfiles import EvalFileError, EvalQuery, read_eval_file
from evaluation.report import (
    GateSyntaxError,
    evaluation_run,
    gate_parse,
    gates_check,
    report_plot,
    report_table,
)
from evaluation.tuning import GRID_RRF_K, GRID_WEIGHTS, fusion_tune, holdout_split

# Exit status of a run whose figures are below a --fail-below gate (a usage error exits with USAGE_ERROR).
GATE_FAILED = 1
USAGE_ERROR = 2


class Command(BaseCommand):
    help = (
        "Evaluate search on evaluation files (text, photo, similar; kind per line): NDCG@10, Recall@10, MRR "
        "(and P@5 for similar items) per file and per retrieval mode. --tune proposes fusion weights."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="evaluation files (JSONL)")
        parser.add_argument("--generation", type=int, help="evaluate this generation (default: the active one)")
        parser.add_argument("--catalog", type=Path, help="folder photo paths are relative to (default: the "
                            "parent of each file's folder, as in CATALOG/eval/x.jsonl)")  # fmt: skip
        parser.add_argument("--json", action="store_true", dest="as_json", help="print JSON instead of a table")
        parser.add_argument("--plot", type=Path, metavar="FILE.png", help="save a chart comparing the modes")
        parser.add_argument("--fail-below", action="append", default=[], metavar="[MODE:]METRIC=VALUE",
                            help="exit 1 when any file's figure is below VALUE (default mode: hybrid); repeatable, "
                            "e.g. --fail-below ndcg@10=0.85 --fail-below fulltext:mrr=0.5")  # fmt: skip
        parser.add_argument("--tune", action="store_true", help="tune the relevance thresholds (best "
                            "match-set F1), then grid-search the fusion (weights, method, RRF k) for the best NDCG@10 "
                            "on PATH..., and report both on unseen queries")  # fmt: skip
        parser.add_argument("--holdout", nargs="+", type=Path, default=[], metavar="PATH",
                            help="with --tune: the unseen files (default: a third of PATH's queries)")  # fmt: skip
        parser.add_argument("--grid", default=",".join(f"{w:g}" for w in GRID_WEIGHTS),
                            help="with --tune: weights tried per signal (default %(default)s)")  # fmt: skip
        parser.add_argument("--rrf-k", default=",".join(str(k) for k in GRID_RRF_K),
                            help="with --tune: RRF constants tried (default %(default)s)")  # fmt: skip
        parser.add_argument("--store", action="store_true", help="with --tune: store the proposed fusion and "
                            "thresholds in a new generation (a copy of the evaluated one's vectors), "
                            "ready to activate")  # fmt: skip

    def handle(self, *args, paths, generation, catalog, as_json, plot, fail_below, tune, holdout, grid, rrf_k, store,
               **options):  # fmt: skip
        try:
            gates = [gate_parse(text) for text in fail_below]
        except GateSyntaxError as exc:
            raise CommandError(str(exc), returncode=USAGE_ERROR) from None
        if (holdout or store) and not tune:
            raise CommandError("--holdout and --store go with --tune", returncode=USAGE_ERROR)
        if tune and (gates or plot):
            raise CommandError("--fail-below and --plot go with an evaluation, not with --tune", returncode=USAGE_ERROR)
        target = self._generation(generation)
        files = self._read(paths, catalog)
        if tune:
            unseen = self._read(holdout, catalog) if holdout else {}
            self._tune(target, files, unseen, grid, rrf_k, store=store, as_json=as_json)
            return
        queries = sum(len(q) for q in files.values())
        with tqdm(total=queries, desc="evaluating", unit="query", file=sys.stderr, disable=None) as bar:
            report = evaluation_run(target, files, advance=bar.update)
        self.stdout.write(_json_dump(report.as_dict()) if as_json else report_table(report))
        if plot:
            report_plot(report, plot)
            self.stderr.write(f"chart saved to {plot}")
        failures, checked = gates_check(report, gates)
        if gates and not checked:
            raise CommandError("no --fail-below gate matched a figure of these files", returncode=USAGE_ERROR)
        if failures:
            raise CommandError("below the gate:\n  " + "\n  ".join(failures), returncode=GATE_FAILED)

    @staticmethod
    def _generation(number: int | None) -> EmbeddingGeneration:
        if number is None:
            generation = active_generation()
            if generation is None:
                raise CommandError("no generation is active: run `manage.py reindex` or pass --generation N")
            return generation
        generation = EmbeddingGeneration.objects.filter(pk=number).select_related("head").first()
        if generation is None:
            raise CommandError(f"no generation {number}")
        if generation.state not in (EmbeddingGeneration.State.READY, EmbeddingGeneration.State.ACTIVE):
            raise CommandError(f"generation {number} is {generation.state}: only a built generation can be evaluated")
        return generation

    @staticmethod
    def _read(paths: list[Path], catalog: Path | None) -> dict[str, list[EvalQuery]]:
        files = {}
        for path in paths:
            try:
                files[str(path)] = read_eval_file(path, catalog_dir=catalog)
            except (OSError, EvalFileError) as exc:
                raise CommandError(f"{path}: {exc}") from None
        return files

    def _tune(self, generation, files, unseen, grid: str, rrf_k: str, *, store: bool, as_json: bool) -> None:
        try:
            weights = [float(v) for v in grid.split(",")]
            ks = [int(v) for v in rrf_k.split(",")]
        except ValueError:
            raise CommandError("--grid and --rrf-k take comma-separated numbers", returncode=USAGE_ERROR) from None
        queries = [query for group in files.values() for query in group]
        if unseen:
            tune, holdout = queries, [query for group in unseen.values() for query in group]
        else:
            tune, holdout = holdout_split(queries)
        skus = dict(Product.objects.values_list("id", "sku"))
        with tqdm(desc="tuning", file=sys.stderr, disable=None) as bar:

            def total(n: int) -> None:
                bar.reset(total=n)

            try:
                result = fusion_tune(generation, tune, holdout, skus, weights=weights, rrf_ks=ks,
                                     advance=bar.update, total=total)  # fmt: skip
            except ValueError as exc:
                raise CommandError(str(exc), returncode=USAGE_ERROR) from None
        payload = {"generation": generation.pk, **result.as_dict()}
        if store:
            if not result.changed:
                payload["stored_generation"] = None
                message = "not stored: the current fusion and thresholds are already the best tried"
            else:
                try:
                    copy = generation_copy(source=generation, search_fusion=result.search_fusion())
                except GenerationError as exc:
                    raise CommandError(str(exc)) from None
                payload["stored_generation"] = copy.pk
                message = (f"stored in generation {copy.pk} (ready); activate it with "
                           f"`python manage.py generations activate {copy.pk}`")  # fmt: skip
        self.stdout.write(_json_dump(payload) if as_json else f"generation {generation.pk}\n{result}")
        if store:
            (self.stderr if as_json else self.stdout).write(message)


def _json_dump(data: dict) -> str:
    return json.dumps(data, indent=2)
