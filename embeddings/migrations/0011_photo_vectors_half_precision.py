"""A photo's vectors (its image vector and its joint vector) are stored at half precision (``halfvec``).

The photo table is the largest that a search reads row by row: photo search re-scores ``SEARCH_PHOTO_RESCORE_PHOTOS``
photos by their stored vector (``search.candidates``), each from a random place in the table, so what decides its
time at scale is how much of the table memory holds. In single precision a photo row (1,408-d vector, 256-d joint
vector, binary code) took a page of its own: 10.8 GB at 1,000,000 products with 1,284,584 photos, more than the
memory that this machine has left beside the indexes and the product rows. At half precision two rows share a page
and the table is half the size. 16-bit floats keep the cosine of normalised vectors to about 1e-3 (the HNSW indexes
have always compared them so, ``embeddings.indexes``); the re-scoring now does too.

One ALTER TABLE rewrites the table once: the binary code (generated from the vector, migration 0009) is dropped and
added again on the half-precision vector (``photo_code_v1`` has a ``halfvec`` form: the code of the same values in
single precision), the storage stays in the
row (ALTER TYPE would reset it to the type's ``EXTERNAL``, migration 0010), PostgreSQL rebuilds an index over every
photo's vector (``photo`` layout) itself, and the codes' IVFFlat lists of ``binary`` generations are built again.
"""

from django.db import migrations
from pgvector.django import HalfVectorField

TABLE = "embeddings_imageembedding"


# The code of a half-precision vector: that of the same values in single precision (migration 0008's function).
CODE_OF_HALFVEC = """
CREATE FUNCTION photo_code_v1(v halfvec) RETURNS bit
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path FROM CURRENT
RETURN photo_code_v1(v::vector)
"""


def _rewrite(kind: str) -> str:
    return (
        f"ALTER TABLE {TABLE} DROP COLUMN code, "
        f"ALTER COLUMN vector TYPE {kind} USING vector::{kind}, ALTER COLUMN aligned TYPE {kind} USING aligned::{kind}, "
        "ALTER COLUMN vector SET STORAGE MAIN, ALTER COLUMN aligned SET STORAGE MAIN, "
        "ADD COLUMN code bit varying GENERATED ALWAYS AS (photo_code_v1(vector)) STORED"
    )


def codes_reindexed(apps, schema_editor):
    from embeddings.indexes import indexes_create

    generation_model = apps.get_model("embeddings", "EmbeddingGeneration")
    for generation in generation_model.objects.filter(photo_index="binary"):
        indexes_create(generation)  # the codes' index went with the column; the others exist and are kept


class Migration(migrations.Migration):
    dependencies = [
        ("embeddings", "0010_vectors_stored_inline"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # Undone in reverse order: the table back in single precision, then the codes' lists again.
            database_operations=[
                migrations.RunPython(migrations.RunPython.noop, codes_reindexed),
                migrations.RunSQL(
                    [CODE_OF_HALFVEC, _rewrite("halfvec")],
                    reverse_sql=[_rewrite("vector"), "DROP FUNCTION photo_code_v1(halfvec)"],
                ),
                migrations.RunPython(codes_reindexed, migrations.RunPython.noop),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="imageembedding",
                    name="vector",
                    field=HalfVectorField(help_text="Image encoder space."),
                ),
                migrations.AlterField(
                    model_name="imageembedding",
                    name="aligned",
                    field=HalfVectorField(
                        blank=True, help_text="Joint space (none in a text-only generation).", null=True
                    ),
                ),
            ],
        ),
    ]

