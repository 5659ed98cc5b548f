"""The Celery application: ``celery -A shop_search worker`` finds it here.

Every pool process (and a ``--pool solo`` worker itself) warms up before it takes a task: the active generation's
encoders and head loaded, one query and one photo encoded (``shop_search.readiness``).
"""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop_search.settings")

app = Celery("shop_search")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The longest a pool process waits for its first warm-up attempt before it takes tasks anyway (it keeps retrying
# in the background); below ``CELERY_WORKER_PROC_ALIVE_TIMEOUT``, after which the pool gives up on the process.
WARM_UP_WAIT_SECONDS = 45


@signals.worker_process_init.connect
def warm_up_pool_process(**kwargs) -> None:
    from .readiness import warm_up_start, warm_up_wait

    warm_up_start(watch=False)  # a worker's models for a new generation come with building it
    warm_up_wait(WARM_UP_WAIT_SECONDS)
