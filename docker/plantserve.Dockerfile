# syntax=docker/dockerfile:1
# The plantserve image: `plantserve sidecar` next to tensorflow/serving, and the CLI
# (`plantserve predict` for `helm test`, `plantserve rollout ...`). CPU only.
#
#   docker build -f docker/plantserve.Dockerfile -t ghcr.io/plantserve/plantserve:0.1.0 .
#
# Pinned base (bump deliberately; add @sha256 digests in your registry mirror), non-root user 65532,
# no build tools in the final stage.

FROM python:3.11.13-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/plantserve
WORKDIR /src
COPY pyproject.toml README.md ./
COPY serving ./serving
COPY training ./training
RUN /opt/plantserve/bin/pip install --upgrade pip==25.2 \
 && /opt/plantserve/bin/pip install '.[sidecar]' \
 && /opt/plantserve/bin/plantserve --help >/dev/null

FROM python:3.11.13-slim-bookworm
LABEL org.opencontainers.image.title="plantserve" \
      org.opencontainers.image.description="plantserve sidecar and CLI" \
      org.opencontainers.image.source="https://github.com/plantserve/plantserve" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /opt/plantserve /opt/plantserve
ENV PATH=/opt/plantserve/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    TF_CPP_MIN_LOG_LEVEL=2
# The chart runs with readOnlyRootFilesystem: everything writable is a mounted volume (/models, /tmp).
USER 65532:65532
WORKDIR /tmp
EXPOSE 8502
ENTRYPOINT ["plantserve"]
CMD ["--help"]
