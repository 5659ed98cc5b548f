"""Alignment head: training time and validation loss, and what the aligned space retrieves across modalities.

    python bench/alignment_quality.py [--catalog ../shared/datasets/luma-dev]

Imports the catalog into a scratch database of the configured server, trains the head and builds a generation
with the real encoders (settings), then prints, for the catalog's eval files: text -> product photos through the
joint space (NDCG@10, with what chance gives), photo -> product through the fused vector, and the raw
photo-to-photo reference computed on the same vectors.
"""

import argparse
import time
from pathlib import Path

from _setup import ROOT, django_setup, peak_rss_mb, scratch_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--catalog", type=Path, default=ROOT.parent / "shared" / "datasets" / "luma-dev")
    args = parser.parse_args()
    django_setup()

    from catalog.services import catalog_import
    from embeddings.models import Job
    from embeddings.services.operations import job_run, job_start
    from evaluation import crossmodal
    from evaluation.evalfiles import read_eval_file

    with scratch_database("alignment_quality"):
        started = time.monotonic()
        report = catalog_import(path=args.catalog)
        print(f"catalog: {report.summary()} ({time.monotonic() - started:.1f} s)")
        started = time.monotonic()
        job = job_start(kind=Job.Kind.BUILD, options={"train": True}, run_async=False)
        job_run(job=job)
        job.refresh_from_db()
        generation = job.generation
        head = generation.head.report
        print(
            f"head: {head['photos']} photos x {head['texts']} texts, {head['epochs']} epochs"
            f" (best {head['best_epoch']}),"
            f" validation loss {head['initial_validation_loss']:.3f} -> {head['validation_loss']:.3f},"
            f" training {head['seconds']:.1f} s; train + build total {time.monotonic() - started:.1f} s"
        )
        text_queries = read_eval_file(args.catalog / "eval" / "text_queries.jsonl", catalog_dir=args.catalog)
        photo_queries = read_eval_file(args.catalog / "eval" / "photo_queries.jsonl", catalog_dir=args.catalog)
        text = crossmodal.text_to_photos(generation, text_queries)
        chance = crossmodal.random_ranking_ndcg(text_queries)
        raw = crossmodal.photo_query_vectors(generation, photo_queries)
        fused = crossmodal.photo_to_fused(generation, photo_queries, raw)
        reference = crossmodal.photo_to_photo_reference(generation, photo_queries, raw)
        print(f"text -> product photos (aligned image vectors): {text}")
        print(f"  chance (random order)                         NDCG@10 {chance:.3f}")
        print(f"photo -> product (fused vector):                {fused}")
        print(f"photo -> photo reference (raw, best photo):     {reference}")
        print(f"peak memory of this process: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
