# syntax=docker/dockerfile:1
# Pantau worker image.
#   docker build -t pantau .
#   docker run pantau                      -> `pantau worker` (set PANTAU_BROKER)
#   docker run pantau replay /app/seeds    -> any other `pantau` command
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- build: a virtualenv with Pantau and its dependencies -------------------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# A compiler only for dependencies without a wheel on the target platform; it stays in this stage.
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Dependencies first, from pyproject alone, so code edits do not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
 && pip install -r requirements.txt
COPY README.md ./
COPY streams ./streams
RUN pip install --no-deps . && pantau --help > /dev/null

# ---- runtime: the virtualenv, the seeds and an unprivileged user, no compiler ----------------
FROM ${PYTHON_IMAGE} AS runtime
# Numeric ids so Kubernetes' runAsNonRoot can verify the user without reading /etc/passwd.
RUN groupadd --system --gid 10001 pantau \
 && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home \
      --shell /usr/sbin/nologin pantau \
 && install -d -o 10001 -g 10001 /app /var/lib/pantau
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY seeds ./seeds
# Metrics must listen on all interfaces to be scraped from outside the container. Faust keeps its
# state (table changelog offsets, RocksDB if used) under PANTAU_DATA_DIR: a volume in Kubernetes.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PANTAU_METRICS_HOST=0.0.0.0 \
    PANTAU_METRICS_PORT=9108 \
    PANTAU_LOG_FORMAT=json \
    PANTAU_DATA_DIR=/var/lib/pantau
USER 10001:10001
EXPOSE 9108
# No curl in a slim image: ask /metrics with the interpreter we already have. Only the worker
# serves it, so one-off commands (replay, tail) should run with --no-healthcheck or ignore it.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/metrics' % os.environ.get('PANTAU_METRICS_PORT', '9108'), timeout=4)"]
ENTRYPOINT ["pantau"]
CMD ["worker"]
