"""Every photo row keeps its binary code (``photo_code_v1`` of its vector) in a stored generated column, ``code``.

Photo search with the ``binary`` layout orders photos by the Hamming distance of their codes through the codes'
index; PostgreSQL evaluates that ORDER BY expression again for every row the index returns, and on the expression
``photo_code_v1(vector)`` that meant running the PL/pgSQL mixing on each of the 1,000 photos read (and reading each
TOASTed vector again for every use inside it: 72 buffer hits a photo): about 85 ms of the statement at 50,000
products. A stored code is computed once, when the row is written (the column is not in the Django model: PostgreSQL
fills it on every INSERT and UPDATE, whoever writes), and the index and the queries read ``code`` itself. The codes'
indexes of existing ``binary`` generations are rebuilt on the column.
"""

from django.db import migrations

ADD_CODE = """
ALTER TABLE embeddings_imageembedding
    ADD COLUMN code bit varying GENERATED ALWAYS AS (photo_code_v1(vector)) STORED
"""


def codes_reindexed(apps, schema_editor):
    from embeddings.indexes import index_name, indexes_create

    generation_model = apps.get_model("embeddings", "EmbeddingGeneration")
    for generation in generation_model.objects.filter(photo_index="binary"):
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(f"DROP INDEX IF EXISTS {index_name(generation.pk, 'photo_code')}")
        indexes_create(generation)


class Migration(migrations.Migration):
    dependencies = [
        ("embeddings", "0008_photo_index_binary"),
    ]

    operations = [
        migrations.RunSQL(ADD_CODE, reverse_sql="ALTER TABLE embeddings_imageembedding DROP COLUMN code"),
        migrations.RunPython(codes_reindexed, migrations.RunPython.noop),
    ]
