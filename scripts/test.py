"""The test command (``make test``): Redis if none answers, Chromium for the browser tests if missing, then the
whole pytest suite.

The suite itself starts what it needs beyond that: the embedded PostgreSQL (on first connection) and a real
Celery worker (a session fixture in tests/conftest.py). The embedded PostgreSQL is stopped at the end when the
suite started it. Extra arguments go to pytest.
"""

import os
import subprocess
import sys

from scripts.browser import ensure_browser
from scripts.services import PYTHON, ROOT, Services

# Tests use their own Redis database so that a running demo's worker never takes the tests' tasks.
DEFAULT_TEST_REDIS = "redis://127.0.0.1:6379/15"


def main() -> int:
    ensure_browser()
    services = Services()
    try:
        env = dict(os.environ)
        env["REDIS_URL"] = services.ensure_redis(env.get("REDIS_URL", DEFAULT_TEST_REDIS))
        env.pop("CELERY_BROKER_URL", None)
        env["DJANGO_ENV"] = "test"
        env.setdefault("HF_HUB_OFFLINE", "1")
        env.setdefault("TRANSFORMERS_OFFLINE", "1")
        # The suite starts the embedded PostgreSQL if it is not running; stop it afterwards, unless it was running
        # before (a demo's, say).
        services.track_embedded_db(env)
        return subprocess.call([PYTHON, "-m", "pytest", *sys.argv[1:]], cwd=ROOT, env=env)
    finally:
        services.stop()


if __name__ == "__main__":
    sys.exit(main())
