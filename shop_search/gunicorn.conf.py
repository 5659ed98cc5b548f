"""Gunicorn settings of the web server: ``gunicorn -c shop_search/gunicorn.conf.py`` (docker-compose.yml, the
Dockerfile and ``make demo``; bind, workers and timeouts stay on their command lines).

Each worker warms up (``shop_search.readiness``: the active generation's encoders and head loaded, one query and
one photo encoded) after loading the application and before it accepts its first request, telling the arbiter it
is alive meanwhile. A worker whose warm-up cannot finish yet (the database not answering) starts serving after
``WARM_UP_WAIT_SECONDS`` and answers ``/readyz`` with 503 until its warm-up thread has retried successfully.
"""

import time

wsgi_app = "shop_search.wsgi:application"

# The longest a worker waits for its first warm-up attempt before it serves anyway (a cold start of the default
# models takes about 5 s; the embedded database may need a few more to start).
WARM_UP_WAIT_SECONDS = 120


def post_worker_init(worker):
    from shop_search import readiness

    readiness.warm_up_start()
    deadline = time.monotonic() + WARM_UP_WAIT_SECONDS
    while worker.alive and time.monotonic() < deadline and not readiness.warm_up_wait(1.0):
        worker.notify()  # the arbiter restarts a worker that stays silent for --timeout seconds
    state = readiness.readiness()
    worker.log.info(
        "worker %s %s: %s (%s s)", worker.pid, "ready" if state.ready else "not ready yet", state.detail, state.seconds
    )
