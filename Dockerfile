# syntax=docker/dockerfile:1
# Neuronhub API: gunicorn serving service:create_app() with the repository's gunicorn.conf.py.
# Build: docker build -t neuronhub .   Run everything: docker compose up   (docs/deploy.md)
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

WORKDIR /app

# Dependencies first, read from the project's own pyproject.toml ([project] dependencies), so a code
# change does not reinstall them. All of them ship wheels for this base: no compiler needed.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# The service runs from the source tree (/app), like scripts/serve: it serves /app/openapi.yaml.
COPY gunicorn.conf.py openapi.yaml ./
COPY service ./service

RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home --shell /usr/sbin/nologin neuronhub \
 && mkdir -p /app/data \
 && chown neuronhub:neuronhub /app/data
USER neuronhub

ENV NEURONHUB_BIND=0.0.0.0:8000
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4)"]
# gunicorn is PID 1's child under `init: true` (compose) or PID 1 itself: SIGTERM stops it gracefully.
STOPSIGNAL SIGTERM
CMD ["gunicorn", "--config", "gunicorn.conf.py", "service:create_app()"]
