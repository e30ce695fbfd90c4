# syntax=docker/dockerfile:1
# One image for the whole fleet; the service is chosen at start:
#   docker run IMAGE alchemical-core --host 0.0.0.0                  (the default CMD)
#   docker run IMAGE kitchen-intelligence --host 0.0.0.0 --port 8100 --workers 2
# ENTRYPOINT is `alchm serve`; CMD is its arguments. Set HEALTHCHECK_PORT to the port the service listens on.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- builder: the project and its dependencies in a virtualenv --------------------------------------------
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Dependencies first (a layer that changes only with pyproject.toml): install the project with empty
# packages, then drop the project itself and keep its dependencies.
COPY pyproject.toml README.md ./
RUN mkdir -p shared services \
    && touch shared/__init__.py services/__init__.py \
    && pip install . \
    && pip uninstall -y alchm-kitchen-backend
# Then the code (shared/data, the migrations and every service ship inside the packages).
COPY shared ./shared
COPY services ./services
RUN pip install --no-deps . \
    && python -m compileall -q /opt/venv/lib

# ---- runtime -------------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
# tzdata: IANA zones for the planetary-hour and timezone code (the tzdata wheel is a dependency too).
# Unpinned on purpose: the distribution's current (security-patched) packages.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends tzdata ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 alchm \
    && useradd --system --uid 10001 --gid alchm --home-dir /app --shell /usr/sbin/nologin alchm \
    && mkdir -p /app/var \
    && chown alchm:alchm /app/var
COPY --from=builder /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    ALCHM_VAR_DIR=/app/var \
    HEALTHCHECK_PORT=8000
WORKDIR /app
# Numeric, so orchestrators can verify runAsNonRoot (10001 = alchm).
USER 10001:10001
EXPOSE 8000 8001 8002 8003 8100
# Liveness: GET /health on the service's port (no curl in the image: the venv's Python does it).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('HEALTHCHECK_PORT', '8000') + '/health', timeout=4)"]
ENTRYPOINT ["alchm", "serve"]
CMD ["alchemical-core", "--host", "0.0.0.0"]
