"""The vectors a search reads for every candidate are stored in the row itself (``STORAGE MAIN``), not in TOAST.

pgvector's types default to ``EXTERNAL`` storage: a row over about 2 KB moves its largest vectors to the table's
TOAST relation, where reading one costs a TOAST index lookup and two or three chunk pages besides the row's own page.
A search reads them for every candidate: a photo search re-scores ``SEARCH_PHOTO_RESCORE_PHOTOS`` photos by their
full vector (``embeddings_imageembedding.vector``) and a text search scores about 300 products by their text, fused
and aligned image vectors. When the tables do not fit in memory (a million products) those are random reads from
disk. ``python bench/row_storage.py --products 250000 --cold`` (copies of the rows with each storage, read from
disk): a photo statement with 1,000 photos re-scored p50 185.7 ms with the vectors in TOAST, 98.2 ms in the row;
scoring 300 products' three vectors 56.6 ms (4,625 pages) against 25.0 ms (1,028 pages).

``MAIN`` keeps a value in the row unless the row cannot fit a page otherwise (a vector too long for a page still goes
to TOAST, so no model's dimension can make a write fail). The photo table's rows then take a page each (as their
vector and its TOAST chunks did); the product table keeps its pooled photo vector and aligned text in TOAST (no
search reads them per candidate). Rows written before this migration keep their storage until rewritten: a new
generation's build writes its rows inline.
"""

from django.db import migrations

COLUMNS = {
    "embeddings_imageembedding": ("vector", "aligned"),
    "embeddings_productembedding": ("text_vector", "fused", "aligned_image"),
}


def _storage(storage: str) -> list[str]:
    return [
        f"ALTER TABLE {table} " + ", ".join(f"ALTER COLUMN {column} SET STORAGE {storage}" for column in columns)
        for table, columns in COLUMNS.items()
    ]


class Migration(migrations.Migration):
    dependencies = [
        ("embeddings", "0009_imageembedding_code"),
    ]

    operations = [migrations.RunSQL(_storage("MAIN"), reverse_sql=_storage("EXTERNAL"))]
