"""Shared set-up for benchmarks: Django on a throw-away database of the configured server."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop_search.settings")
os.environ.setdefault("DJANGO_ENV", "local")
# Benchmarks keep their cache keys apart from a running demo and from each other.
os.environ.setdefault("CACHE_KEY_PREFIX", f"bench-{os.getpid()}")


def django_setup() -> None:
    import django

    django.setup()


@contextlib.contextmanager
def scratch_database(name: str = "bench"):
    """A fresh, migrated database (``test_<name>``) for the benchmark's lifetime; the real one is untouched."""
    from django.db import connection

    from search.candidates import search_thread_connection_close

    search_thread_connection_close()  # the search thread's connection must not stay on the previous database
    connection.settings_dict["TEST"]["NAME"] = f"test_{name}"
    original = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        yield
    finally:
        search_thread_connection_close()
        connection.creation.destroy_test_db(original, verbosity=0)


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
