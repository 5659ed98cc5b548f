"""A photo's vectors (its image vector and its joint vector) are stored at half precision (``halfvec``), and its
binary code is three bits a dimension (``photo_code_v2``) instead of one.

The photo table is the largest that a search reads row by row: photo search re-scores ``SEARCH_PHOTO_RESCORE_PHOTOS``
photos by their stored vector (``search.candidates``), each from a random place in the table, so what decides its
time at scale is how much of the table memory holds. In single precision a photo row (1,408-d vector, 256-d joint
vector, binary code) took a page of its own: 10.8 GB at 1,000,000 products with 1,284,584 photos, more than the
memory that this machine has left beside the indexes and the product rows. At half precision two rows share a page
(with the longer code too). 16-bit floats keep the cosine of normalised vectors to about 1e-3 (the HNSW indexes
have always compared them so, ``embeddings.indexes``); the re-scoring now does too.

One ALTER TABLE rewrites the table once: the binary code (generated from the vector, migration 0009) is dropped and
added again as ``photo_code_v2`` of the half-precision vector (below), the storage stays in the row (ALTER TYPE
would reset it to the type's ``EXTERNAL``, migration 0010), the code is kept in the row too (a row over 2 KB moves
its ``EXTENDED`` values to TOAST, and the code is read for every photo the index returns: at 1,000,000 products
without this 717 MB of codes went to TOAST), PostgreSQL rebuilds an index over every photo's vector
(``photo`` layout) itself, and the codes' IVFFlat lists of ``binary`` generations are built again.
"""

from django.db import migrations
from pgvector.django import HalfVectorField

TABLE = "embeddings_imageembedding"


# The binary photo code, second version: the signs of three mixings of the vector, one after the other (three bits
# a dimension), each three rounds of alternating sums of 8 cyclic rotations as in photo_code_v1 (migration 0008),
# whose mixing is the first. At 1,000,000 crowded synthetic products, ranking every photo by Hamming distance and
# re-scoring the 1,000 nearest finds the best photos' products with recall@10 0.894 / 0.845 (catalog photos /
# luma-dev's withheld views) with v1's 1,408 bits, 0.976 / 0.972 with these 4,224 (bench/photo_codes.py): a longer
# code tells near photos apart better, and fewer need re-scoring. The ``halfvec`` form codes the same values in
# single precision. IMMUTABLE: an index is built on it; never change it in place (a new code is a new function).
PHOTO_CODE_V2 = """
CREATE FUNCTION photo_code_v2(v vector) RETURNS bit varying
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path FROM CURRENT AS $$
DECLARE
  n int := vector_dims(v);
  shifts int[] := ARRAY[
    [[0, 300, 395, 516, 560, 1008, 1221, 1252], [0, 173, 509, 668, 810, 903, 1037, 1103],
     [0, 36, 677, 868, 974, 1046, 1246, 1332]],
    [[0, 384, 484, 497, 771, 809, 892, 1228], [0, 201, 578, 588, 715, 1193, 1311, 1371],
     [0, 577, 649, 675, 855, 874, 930, 1171]],
    [[0, 212, 236, 238, 361, 452, 783, 802], [0, 104, 147, 420, 839, 1088, 1160, 1224],
     [0, 88, 406, 596, 725, 740, 1067, 1360]]];
  code bit varying := B'';
  x vector;
  acc vector;
  y vector;
  s int;
BEGIN
  FOR m IN 1..array_length(shifts, 1) LOOP
    x := v;
    FOR t IN 1..array_length(shifts, 2) LOOP
      acc := NULL;
      FOR k IN 1..array_length(shifts, 3) LOOP
        s := shifts[m][t][k] % n;
        y := CASE WHEN s = 0 THEN x ELSE subvector(x, s + 1, n - s) || subvector(x, 1, s) END;
        acc := CASE WHEN acc IS NULL THEN y WHEN k % 2 = 0 THEN acc - y ELSE acc + y END;
      END LOOP;
      x := acc;
    END LOOP;
    code := code || binary_quantize(x);
  END LOOP;
  RETURN code;
END
$$;
CREATE FUNCTION photo_code_v2(v halfvec) RETURNS bit varying
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path FROM CURRENT
RETURN photo_code_v2(v::vector);
"""


def _rewrite(kind: str, code: str) -> str:
    return (
        f"ALTER TABLE {TABLE} DROP COLUMN code, "
        f"ALTER COLUMN vector TYPE {kind} USING vector::{kind}, ALTER COLUMN aligned TYPE {kind} USING aligned::{kind}, "
        "ALTER COLUMN vector SET STORAGE MAIN, ALTER COLUMN aligned SET STORAGE MAIN, "
        f"ADD COLUMN code bit varying GENERATED ALWAYS AS ({code}(vector)) STORED, ALTER COLUMN code SET STORAGE MAIN"
    )


def codes_reindexed(apps, schema_editor):
    from embeddings.indexes import indexes_create

    generation_model = apps.get_model("embeddings", "EmbeddingGeneration")
    for generation in generation_model.objects.filter(photo_index="binary"):
        indexes_create(generation, only=("photo_code",))  # it went with the column; the others are kept


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
                    [PHOTO_CODE_V2, _rewrite("halfvec", "photo_code_v2")],
                    reverse_sql=[
                        _rewrite("vector", "photo_code_v1"),
                        "DROP FUNCTION photo_code_v2(halfvec); DROP FUNCTION photo_code_v2(vector)",
                    ],
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

