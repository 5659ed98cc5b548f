"""Gunicorn settings of the web server: ``gunicorn -c shop_search/gunicorn.conf.py`` (docker-compose.yml, the
Dockerfile and ``make demo``; bind, workers and timeouts stay on their command lines).

Each worker warms up (``shop_search.readiness``: the active generation's encoders and head loaded, one query and
one photo encoded) after loading the application and before it accepts its first request, telling the arbiter it
is alive meanwhile. A worker whose warm-up cannot finish yet (the database not answering) starts serving after
``WARM_UP_WAIT_SECONDS`` and answers ``/readyz`` with 503 until its warm-up thread has retried successfully.

Requests that gunicorn refuses itself, before Django sees them (a request line over ``limit_request_line``, too many
or too large headers, a malformed request), get the API's JSON error shape instead of gunicorn's HTML page:
``{"detail": "...", "status": 414}`` with gunicorn's status code (``post_fork`` installs ``write_json_error``).
"""

import functools
import json
import time

import gunicorn.util

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


def post_fork(server, worker):
    # Workers answer their parse errors through ``gunicorn.util.write_error`` (``Worker.handle_error``), looked up
    # when called: replacing it in the worker process changes every such answer and nothing else.
    gunicorn.util.write_error = functools.partial(write_json_error, cfg=worker.cfg)


def write_json_error(sock, status_int, reason, mesg, *, cfg):
    """gunicorn's ``util.write_error(sock, status_int, reason, mesg)``, answering with a JSON body."""
    if status_int == 414:
        detail = f"request line too long: at most {cfg.limit_request_line} bytes (method, path and query string)"
    elif status_int == 431:
        detail = (f"request headers too large: at most {cfg.limit_request_fields} header fields of at most "
                  f"{cfg.limit_request_field_size} bytes each")  # fmt: skip
    else:
        detail = mesg or reason
    body = json.dumps({"detail": detail, "status": status_int}).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")  # fmt: skip
    gunicorn.util.write_nonblock(sock, head.encode("latin-1") + body)
