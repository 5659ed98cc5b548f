"""Search quality through the HTTP API on a catalog's evaluation files, next to the dataset's naive references.

    python bench/search_quality.py [--catalog ../shared/datasets/luma-dev] [--absent FILE.jsonl]

Imports the catalog into a scratch database, builds a generation with the real encoders, then sends every
query of eval/*.jsonl through the storefront API (Django's test client, in process), reading every page of each
text and photo search: NDCG@10, R@10, MRR, P@5 and the whole result set's precision, recall and F1. ``--absent``
(default: the repository's nonsense and absent-product queries for the catalog, ``evaluation/queries/<name>/``)
gives the zero-result rate.
"""

import argparse
from pathlib import Path

from _setup import ROOT, django_setup, scratch_database

FILES = ["text_queries.jsonl", "photo_queries.jsonl", "similar_category.jsonl", "similar_upsell.jsonl"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--catalog", type=Path, default=ROOT.parent / "shared" / "datasets" / "luma-dev")
    parser.add_argument("--fusion", default="weighted", help="fusion methods to compare (comma-separated)")
    parser.add_argument("--absent", type=Path, help="queries that should find nothing (empty relevant sets)")
    args = parser.parse_args()
    absent = args.absent or ROOT / "evaluation" / "queries" / args.catalog.name / "nonsense_queries.jsonl"
    django_setup()
    from django.test.utils import override_settings

    from catalog.services import catalog_import
    from embeddings.models import Job
    from embeddings.services.operations import job_run, job_start
    from evaluation.evalfiles import read_eval_file
    from evaluation.through_api import api_client, evaluate

    with scratch_database("search_quality"), override_settings(SEARCH_ANON_RATE="100000/min"):
        catalog_import(path=args.catalog)
        job_run(job=job_start(kind=Job.Kind.BUILD, options={"train": True}, run_async=False))
        client = api_client()
        for method in args.fusion.split(","):
            with override_settings(SEARCH_FUSION=method):
                paths = [args.catalog / "eval" / name for name in FILES] + ([absent] if absent.exists() else [])
                for path in paths:
                    if method != args.fusion.split(",")[0] and path.name.startswith("similar"):
                        continue  # similar items do not depend on the search fusion method
                    queries = read_eval_file(path, catalog_dir=args.catalog)
                    print(f"{method:<9} {path.name:<24} {evaluate(client, queries)}", flush=True)


if __name__ == "__main__":
    main()
