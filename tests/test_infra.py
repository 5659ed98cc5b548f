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
        DATABASE_NAME="",  # a parallel run's own test database name (scripts.test) would override the URL's
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


# --- what a command starts, it stops -------------------------------------------------------------------------


def _demo_interrupted_in_its_import(data_dir, *, before_ctrl_c=lambda: None) -> subprocess.CompletedProcess:
    """Run ``python -m scripts.demo`` (``make demo``) on its own data folder until it has migrated and begins to
    import the demo catalog, then press Ctrl-C (SIGINT to its process group, as a terminal does)."""
    import signal
    import threading
    import time

    env = {**os.environ, "SHOP_SEARCH_DATA_DIR": str(data_dir), "DJANGO_ENV": "local", "PORT": str(free_port()),
           "PYTHONUNBUFFERED": "1"}  # fmt: skip
    env.pop("DATABASE_NAME", None)
    demo = subprocess.Popen([sys.executable, "-m", "scripts.demo"], cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(demo.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 90
        while not any(line.startswith("Importing the demo catalog") for line in lines):
            assert demo.poll() is None, "".join(lines)
            assert time.monotonic() < deadline, f"the demo did not migrate within 90 s: {''.join(lines)}"
            time.sleep(0.1)
        before_ctrl_c()
        os.killpg(demo.pid, signal.SIGINT)
        demo.wait(timeout=60)
        reader.join(timeout=10)
        return subprocess.CompletedProcess(demo.args, demo.returncode, "".join(lines))
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()


@pytest.mark.slow
@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="the suite runs against DATABASE_URL")
def test_ctrl_c_in_the_demo_stops_the_embedded_postgresql_it_started(tmp_path):
    import contextlib

    import psutil

    # given a data folder where no server runs
    pgdata = tmp_path / "postgres"
    postmaster = []
    try:
        # when the demo has started the server (to migrate) and is interrupted
        def server_runs():
            assert embedded_postgres.is_running(pgdata)
            postmaster.append(int((pgdata / "postmaster.pid").read_text().split()[0]))

        result = _demo_interrupted_in_its_import(tmp_path, before_ctrl_c=server_runs)

        # then it has stopped that server: no postmaster process is left
        assert result.returncode == 0, result.stdout
        assert not embedded_postgres.is_running(pgdata)
        with contextlib.suppress(psutil.NoSuchProcess):
            psutil.Process(postmaster[0]).wait(timeout=10)  # pg_ctl stop returns as it removes postmaster.pid
    finally:
        embedded_postgres.stop(pgdata)


@pytest.mark.slow
@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="the suite runs against DATABASE_URL")
def test_ctrl_c_in_the_demo_leaves_a_running_embedded_postgresql_alone(tmp_path):
    # given a server that runs before the demo starts
    pgdata = tmp_path / "postgres"
    server = embedded_postgres.ensure_running(pgdata)
    try:
        # when the demo has used it (to migrate) and is interrupted
        result = _demo_interrupted_in_its_import(tmp_path)

        # then the server still runs: the same postmaster
        assert result.returncode == 0, result.stdout
        assert embedded_postgres.is_running(pgdata)
        assert int((pgdata / "postmaster.pid").read_text().split()[0]) == server.pid
    finally:
        embedded_postgres.stop(pgdata)


@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="the suite runs against DATABASE_URL")
def test_make_lint_checks_migrations_without_starting_the_embedded_postgresql(tmp_path):
    import shutil

    if not shutil.which("make"):
        pytest.skip("make is not installed")
    # given the migrations check exactly as `make lint` runs it, on a data folder where no server runs
    dry_run = subprocess.run(["make", "-n", "lint"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    [command] = [line for line in dry_run.replace("\\\n", " ").splitlines() if "makemigrations" in line]
    env = {**os.environ, "SHOP_SEARCH_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_NAME", None)
    pgdata = tmp_path / "postgres"
    try:
        # when it runs
        result = subprocess.run(["sh", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)

        # then it has compared models and migrations (whatever it found), quietly, and started no server
        assert "No changes detected" in result.stdout or "Migrations for" in result.stdout, result.stderr
        assert "Warning" not in result.stderr
        assert not pgdata.exists() and not embedded_postgres.is_running(pgdata)
    finally:
        embedded_postgres.stop(pgdata)
