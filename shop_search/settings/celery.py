"""Celery: broker and results on Redis, JSON only, bounded tasks, embedding and reindex work on their own queues."""

from celery.schedules import crontab

from .env import env

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=env.str("REDIS_URL", default="redis://127.0.0.1:6379/0"))
CELERY_RESULT_BACKEND = CELERY_BROKER_URL
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_TASK_TRACK_STARTED = True
# Hard and soft limits for any task; long tasks (reindex) set their own.
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
# One task at a time per worker process: embedding batches are heavy, prefetching them only delays others.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# How long the pool waits for a new process to start: each one warms up first (``shop_search/celery.py``: a cold
# load of the default models takes about 5 s, Celery's default allows 4).
CELERY_WORKER_PROC_ALIVE_TIMEOUT = 60.0
# Must exceed the longest task, or Redis hands an unacknowledged (acks_late) task to a second worker.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 3600}

# Jobs (training, generation builds) do not wait for that timeout when their worker dies: a running job's process
# stamps its heartbeat every JOB_HEARTBEAT_SECONDS (one UPDATE), and the periodic ``embeddings.requeue_stalled_jobs``
# re-queues a job with no heartbeat for JOB_STALL_SECONDS whose runner no longer holds its database lock (a build
# resumes after its last batch). A job re-queued JOB_MAX_REQUEUES times that stalls again is failed: something keeps
# killing its worker (memory, say).
JOB_HEARTBEAT_SECONDS = env.float("JOB_HEARTBEAT_SECONDS", default=10.0)
JOB_STALL_SECONDS = env.float("JOB_STALL_SECONDS", default=60.0)
JOB_MAX_REQUEUES = env.int("JOB_MAX_REQUEUES", default=3)

CELERY_TASK_DEFAULT_QUEUE = "default"
QUEUE_EMBEDDINGS = "embeddings"
QUEUE_REINDEX = "reindex"
CELERY_TASK_ROUTES = {
    "embeddings.*": {"queue": QUEUE_EMBEDDINGS},
    "reindex.*": {"queue": QUEUE_REINDEX},
    # The catalog quality check trains small models for seconds to minutes: beside the builds, not the batches.
    "quality.*": {"queue": QUEUE_REINDEX},
}

CELERY_BEAT_SCHEDULE = {
    "search.flush_logs": {"task": "search.flush_logs", "schedule": 5.0},
    # Warms the popular queries of a newly active generation if the on-activation task was missed.
    "search.warm_cache": {"task": "search.warm_cache", "schedule": 300.0},
    "search.rescale_popularity": {"task": "search.rescale_popularity", "schedule": crontab(hour=4, minute=7)},
    # What sort=popularity orders by: the storefront events of the last SEARCH_POPULARITY_DAYS days.
    "search.refresh_product_popularity": {"task": "search.refresh_product_popularity", "schedule": crontab(minute=17)},
    # The popular queries autocomplete offers, recounted from the search log (one aggregate over its window).
    "search.refresh_suggestions": {"task": "search.refresh_suggestions", "schedule": 600.0},
    # Safety net for the on-commit trigger (and what keeps working while the broker was down at commit time).
    "embeddings.embed_stale": {"task": "embeddings.embed_stale", "schedule": 60.0},
    # A small bookkeeping task: on the default queue, not behind embedding batches; a run no worker took in time
    # expires rather than pile up.
    "embeddings.requeue_stalled_jobs": {
        "task": "embeddings.requeue_stalled_jobs",
        "schedule": JOB_STALL_SECONDS / 2,
        "options": {"queue": CELERY_TASK_DEFAULT_QUEUE, "expires": JOB_STALL_SECONDS / 2},
    },
    "embeddings.collect_generations": {
        "task": "embeddings.collect_generations",
        "schedule": crontab(hour=3, minute=47),
    },
    # Recomputes every stored similar-item list, so products added during the day reach other products' lists.
    "recommendations.build_similar_lists": {
        "task": "recommendations.build_similar_lists",
        "schedule": crontab(hour=2, minute=37),
    },
    # The catalog quality report of the active generation, with the day's catalog changes (and after activations).
    "quality.build_report": {
        "task": "quality.build_report",
        "schedule": crontab(hour=4, minute=27),
    },
    "catalog.purge_orphan_photos": {
        "task": "catalog.purge_orphan_photos",
        "schedule": crontab(hour=3, minute=17),
    },
}
