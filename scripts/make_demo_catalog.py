"""Make a small, committable copy of a catalog folder with downscaled photos.

Text files (products.jsonl, reviews.jsonl, eval/, README.md and both LICENSE files) are copied byte-for-byte;
every file under images/ is re-encoded as JPEG under the same relative name, its longest side at most
--max-side pixels. A NOTICE.md in the destination records where the copy came from and how it was made.

    python scripts/make_demo_catalog.py [--source DIR] [--dest DIR] [--max-side 256] [--quality 80]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from PIL import Image, ImageOps

REPO_ROOT = Path(__file__).resolve().parent.parent
COPIED = ("products.jsonl", "reviews.jsonl", "README.md", "LICENSE-AFL-3.0.txt", "LICENSE-OSL-3.0.txt")


def shrink(src: Path, dst: Path, max_side: int, quality: int) -> None:
    """Re-encode one photo as RGB JPEG, EXIF orientation applied, longest side <= max_side."""
    with Image.open(src) as opened:
        img = ImageOps.exif_transpose(opened).convert("RGB")
    img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    img.save(dst, "JPEG", quality=quality, optimize=True, progressive=False)


def write_notice(dest: Path, source: Path, argv: list[str], max_side: int, quality: int) -> None:
    command = " ".join(["python", "scripts/make_demo_catalog.py", *argv])
    dest.joinpath("NOTICE.md").write_text(
        f"# Downscaled copy of {source.name}\n\n"
        f"A reduced copy of the `{source.name}` catalog (origin: see README.md), small enough to commit.\n"
        "products.jsonl, reviews.jsonl, eval/, README.md and both LICENSE files are unchanged; every\n"
        f"photo in images/ was re-encoded as JPEG (longest side <= {max_side} px, quality {quality}) under\n"
        "the same file name. The reference figures in README.md were measured on the original photos.\n\n"
        f"Made from the repository root with:\n\n    {command}\n\n"
        "License unchanged: OSL-3.0 / AFL-3.0 (LICENSE-OSL-3.0.txt, LICENSE-AFL-3.0.txt).\n",
        encoding="utf-8",
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=Path("../shared/datasets/luma-dev"))
    parser.add_argument("--dest", type=Path, default=Path("demo_catalog/luma-dev"))
    parser.add_argument("--max-side", type=int, default=256)
    parser.add_argument("--quality", type=int, default=80)
    args = parser.parse_args(argv)
    source, dest = (p if p.is_absolute() else REPO_ROOT / p for p in (args.source, args.dest))
    if not (source / "products.jsonl").is_file():
        parser.error(f"no products.jsonl in {source}")

    dest.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        shutil.copyfile(source / name, dest / name)
    shutil.copytree(source / "eval", dest / "eval", dirs_exist_ok=True)

    files = failed = before = after = 0
    for src in sorted(p for p in (source / "images").rglob("*") if p.is_file()):
        dst = dest / src.relative_to(source)
        dst.parent.mkdir(parents=True, exist_ok=True)
        try:
            shrink(src, dst, args.max_side, args.quality)
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            print(f"warning: {src}: cannot decode ({exc}); copied unchanged", file=sys.stderr)
            shutil.copyfile(src, dst)
            failed += 1
        files += 1
        before += src.stat().st_size
        after += dst.stat().st_size

    write_notice(dest, source, argv, args.max_side, args.quality)
    print(f"{files} images ({failed} copied unchanged): {before:,} -> {after:,} bytes; written to {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
