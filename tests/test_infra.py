"""The ground the services stand on: embedded PostgreSQL+pgvector, settings, Redis and a real Celery worker."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

from catalog.models import Product
from catalog.tasks import catalog_import_task
from scripts.services import Services, free_port, redis_answers, redis_server_binary
from shop_search import embedded_postgres

from .conftest import ROOT


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=120
    )


def test_embedded_server_is_started_once_and_reused_by_a_second_process(tmp_path):
    # given a data folder where no server runs yet
    pgdata = tmp_path / "pg"
    try:
        # when this process asks for it, it starts
        first = embedded_postgres.ensure_running(pgdata)
        assert first.started_here and embedded_postgres.is_running(pgdata)

        # and a second process asking for the same folder finds the same server running
        code = (
            "from shop_search import embedded_postgres as e; "
            f"s = e.ensure_running({str(pgdata)!r}); print(s.started_here, s.pid, s.socket_dir)"
        )
        result = run_python(code)
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["False", str(first.pid), first.socket_dir]

        # and it has pgvector
        import psycopg

        with psycopg.connect(host=first.socket_dir, user="postgres", dbname="postgres", autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            assert conn.execute("SELECT '[3,4]'::vector <-> '[0,0]'::vector").fetchone()[0] == 5.0
            # and the project's server settings from its first start
            assert conn.execute("SHOW shared_buffers").fetchone()[0] == settings.EMBEDDED_POSTGRES_SHARED_BUFFERS
    finally:
        assert embedded_postgres.stop(pgdata)
    assert not embedded_postgres.is_running(pgdata)


def test_embedded_server_settings_are_rewritten_only_when_they_change(tmp_path, settings):
    (tmp_path / "postgresql.conf").write_text("max_connections = 100\n")
    settings.EMBEDDED_POSTGRES_SHARED_BUFFERS = "256MB"
    assert embedded_postgres.settings_write(tmp_path)
    assert not embedded_postgres.settings_write(tmp_path)  # same settings: no restart needed
    assert (tmp_path / "postgresql.conf").read_text().count("include_if_exists = 'shop_search.conf'") == 1
    assert "shared_buffers = '256MB'" in (tmp_path / "shop_search.conf").read_text()
    settings.EMBEDDED_POSTGRES_SHARED_BUFFERS = "512MB"
    assert embedded_postgres.settings_write(tmp_path)
    assert (tmp_path / "postgresql.conf").read_text().count("include_if_exists") == 1


@pytest.mark.django_db
def test_the_test_database_has_the_vector_extension_from_the_first_migration():
    with connection.cursor() as cursor:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        (version,) = cursor.fetchone()
    assert tuple(int(x) for x in version.split(".")[:2]) >= (0, 8)


@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="the suite runs against DATABASE_URL")
@pytest.mark.django_db
def test_management_commands_use_the_same_embedded_server_as_the_tests():
    # the server the tests talk to
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_postmaster_start_time()::text")
        (started,) = cursor.fetchone()
    # what a separate manage.py process talks to
    code = (
        "import django; django.setup(); from django.db import connection; c = connection.cursor(); "
        "c.execute('SELECT pg_postmaster_start_time()::text'); print(c.fetchone()[0])"
    )
    result = run_python(code, DJANGO_SETTINGS_MODULE="shop_search.settings")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == started
    assert settings.DATABASES["default"]["ENGINE"] == "shop_search.embedded_postgres"


def test_production_settings_refuse_to_start_without_a_real_secret_key():
    code = "import django; django.setup(); print('started')"
    env = {"DJANGO_SETTINGS_MODULE": "shop_search.settings", "DJANGO_ENV": "production", "SECRET_KEY": ""}
    refused = run_python(code, **env)
    assert refused.returncode != 0
    assert "SECRET_KEY must be set" in refused.stderr

    insecure = run_python(code, **{**env, "SECRET_KEY": "django-insecure-" + "x" * 40})
    assert insecure.returncode != 0

    real = run_python(code, **{**env, "SECRET_KEY": "k3J9-vQ2_zP8wR5tY1uI4oA7sD0fG6hJ2kL9"})
    assert real.returncode == 0, real.stderr
    assert real.stdout.strip() == "started"


def test_settings_read_database_and_redis_from_the_environment():
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "d = s.DATABASES['default']; print(d['ENGINE'], d['HOST'], d['PORT'], d['NAME'], s.CELERY_BROKER_URL, "
        "s.CACHES['default']['LOCATION'], s.DEBUG, ','.join(s.ALLOWED_HOSTS), s.MEDIA_ROOT)"
    )
    result = run_python(
        code,
        DJANGO_SETTINGS_MODULE="shop_search.settings",
        DJANGO_ENV="local",
        DATABASE_URL="postgres://u:p@db.example:6543/shop",
        REDIS_URL="redis://cache.example:6380/2",
        DEBUG="0",
        ALLOWED_HOSTS="shop.example,api.example",
        MEDIA_ROOT="/srv/media",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "db.example",
        "6543",
        "shop",
        "redis://cache.example:6380/2",
        "redis://cache.example:6380/2",
        "False",
        "shop.example,api.example",
        "/srv/media",
    ]


def test_a_private_redis_is_started_when_none_answers_and_stopped_after():
    # given a URL where nothing listens
    assert redis_server_binary()
    url = f"redis://127.0.0.1:{free_port()}/0"
    assert not redis_answers(url)
    services = Services()
    try:
        # when the demo/test commands ask for Redis there
        private = services.ensure_redis(url)
        # then a private server answers on another port
        assert private != url and redis_answers(private)
    finally:
        services.stop()
    assert not redis_answers(private)


@pytest.mark.django_db(transaction=True)
def test_a_celery_task_runs_in_a_real_worker_through_redis(live_worker, catalog_dir):
    # given a catalog folder the worker can read
    photo = catalog_dir.add_photo("w.jpg")
    catalog_dir.add_product(sku="W1", name="Worker-imported tent", price="99", images=[photo])
    catalog_dir.write()
    assert settings.CELERY_BROKER_URL.startswith("redis://")

    # when the import is queued and a worker process runs it
    result = catalog_import_task.delay(str(catalog_dir.path))
    summary = result.get(timeout=60)

    # then the product is in the database the tests see
    assert summary["created"] == 1
    assert Product.objects.get(sku="W1").name == "Worker-imported tent"
    assert result.status == "SUCCESS"
