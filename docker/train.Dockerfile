# syntax=docker/dockerfile:1
# The training image: `plantserve train fuel|defect --store URI`, for the chart's training Job and
# CronJob on GPU nodes (TensorFlow with its CUDA wheels; it runs on CPU too).
#
#   docker build -f docker/train.Dockerfile -t ghcr.io/plantserve/plantserve-train:0.1.0 .
#
# Pinned base and TensorFlow, non-root user 65532.

FROM python:3.11.13-slim-bookworm AS build
ARG TENSORFLOW_VERSION=2.21.*
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/plantserve
WORKDIR /src
COPY pyproject.toml README.md ./
COPY serving ./serving
COPY training ./training
RUN /opt/plantserve/bin/pip install --upgrade pip==25.2 \
 && /opt/plantserve/bin/pip install ".[full]" "tensorflow[and-cuda]==${TENSORFLOW_VERSION}" \
 && /opt/plantserve/bin/plantserve train --help >/dev/null

FROM python:3.11.13-slim-bookworm
LABEL org.opencontainers.image.title="plantserve-train" \
      org.opencontainers.image.description="plantserve training (plantserve train)" \
      org.opencontainers.image.source="https://github.com/plantserve/plantserve" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /opt/plantserve /opt/plantserve
ENV PATH=/opt/plantserve/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    MPLCONFIGDIR=/tmp/matplotlib \
    TF_CPP_MIN_LOG_LEVEL=2
USER 65532:65532
WORKDIR /tmp
ENTRYPOINT ["plantserve"]
CMD ["train", "--help"]
