from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0005_merchandising"),
    ]

    operations = [
        migrations.CreateModel(
            name="QuerySuggestion",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("query", models.CharField(help_text="lower case, single spaces", max_length=256, unique=True)),
                ("searches", models.PositiveIntegerField(default=0)),
                ("searches_with_results", models.PositiveIntegerField(default=0)),
                (
                    "last_result_count",
                    models.PositiveIntegerField(
                        blank=True,
                        help_text="results of the latest search without filters (empty: none without)",
                        null=True,
                    ),
                ),
                ("last_searched_at", models.DateTimeField(blank=True, null=True)),
                ("hidden", models.BooleanField(default=False)),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={
                "ordering": ["-searches_with_results", "query"],
            },
        ),
    ]
