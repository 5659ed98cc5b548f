from django.db import migrations, models

import embeddings.models

# The binary photo code of an image vector (``embeddings.indexes``, layout "binary"): three rounds of mixing, each
# the alternating sum of 8 cyclic rotations of the vector (shifts modulo its dimensions), then the sign of every
# dimension (pgvector's binary_quantize). The mixing spreads the few dimensions that carry most of a photo vector's
# variance over every bit, as a random rotation would: the Hamming distance of the codes then ranks photos nearly
# as their cosine does. IMMUTABLE: an HNSW index is built on it. Never change it in place (the indexes on it would
# silently disagree with new rows): a new code is a new function.
PHOTO_CODE_V1 = """
CREATE OR REPLACE FUNCTION photo_code_v1(v vector) RETURNS bit
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path FROM CURRENT AS $$
DECLARE
  n int := vector_dims(v);
  shifts int[] := ARRAY[[0, 300, 395, 516, 560, 1008, 1221, 1252], [0, 173, 509, 668, 810, 903, 1037, 1103],
                        [0, 36, 677, 868, 974, 1046, 1246, 1332]];
  acc vector;
  y vector;
  s int;
BEGIN
  FOR t IN 1..array_length(shifts, 1) LOOP
    acc := NULL;
    FOR k IN 1..array_length(shifts, 2) LOOP
      s := shifts[t][k] % n;
      y := CASE WHEN s = 0 THEN v ELSE subvector(v, s + 1, n - s) || subvector(v, 1, s) END;
      acc := CASE WHEN acc IS NULL THEN y WHEN k % 2 = 0 THEN acc - y ELSE acc + y END;
    END LOOP;
    v := acc;
  END LOOP;
  RETURN binary_quantize(v);
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("embeddings", "0007_generation_photo_index"),
    ]

    operations = [
        migrations.RunSQL(PHOTO_CODE_V1, reverse_sql="DROP FUNCTION IF EXISTS photo_code_v1(vector)"),
        migrations.AlterField(
            model_name="embeddinggeneration",
            name="photo_index",
            field=models.CharField(
                choices=[("product", "Product"), ("photo", "Photo"), ("binary", "Binary")],
                default=embeddings.models.photo_index_default,
                max_length=16,
            ),
        ),
    ]
