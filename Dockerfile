# shop-search: one image for the web app (gunicorn), the Celery worker, Celery beat and one-shot management commands.
#   docker build -t shop-search .
#   docker run --rm -e SECRET_KEY=... -e DATABASE_URL=postgres://... -e REDIS_URL=redis://... -p 8000:8000 shop-search
# docker-compose.yml wires it to PostgreSQL+pgvector and Redis. No HEALTHCHECK here on purpose: the worker, beat and
# migrate containers run the same image, and each service gets its own check in docker-compose.yml.
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=shop_search.settings \
    DJANGO_ENV=production \
    STATIC_ROOT=/app/staticfiles \
    MEDIA_ROOT=/app/media \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1

# Unprivileged user with a home directory (torch and Hugging Face write small caches under ~/.cache).
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app --shell /usr/sbin/nologin app

WORKDIR /app

# Dependencies first, so that a source change does not reinstall them. The CPU index makes torch==2.13.0 resolve
# to the 2.13.0+cpu wheel (a local version sorts above the plain one) instead of PyPI's multi-GB CUDA build.
COPY requirements.txt ./
RUN pip install --extra-index-url https://download.pytorch.org/whl/cpu -r requirements.txt

COPY . .

# Mount points owned by the app user: an empty named volume mounted there takes over this ownership.
RUN mkdir -p /app/media /app/.data /app/staticfiles \
    && chown app:app /app/media /app/.data

# collectstatic imports the production settings, which refuse to load without a real-looking SECRET_KEY. The key
# below is random, exists only for this one command and is never stored in the image; the runtime key comes from
# the environment (SECRET_KEY), and the image does not start without one.
RUN SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    python manage.py collectstatic --noinput

USER app

EXPOSE 8000

CMD ["gunicorn", "-c", "shop_search/gunicorn.conf.py", "shop_search.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "2", "--timeout", "60", "--access-logfile", "-"]
