# plantserve: every target creates .venv (and the external tools) on its own when missing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
STORE ?= var/store
PYTEST_ARGS ?=
# Extra flags for plantserve demo, e.g. DEMO_ARGS="--bench-seconds 2".
DEMO_ARGS ?=

.PHONY: all demo test bench tools clean help
all: help

help:
	@echo "make demo   # train both models into $(STORE) and run the local stack"
	@echo "make test   # the whole suite"
	@echo "make bench  # benchmarks, side by side with their peers"

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[full,test]'
	@touch $(STAMP)

# External tools (helm, kubectl, prometheus, promtool, wrk, checkov) into .tools/bin.
tools: $(STAMP)
	@bash scripts/install-tools.sh

demo: $(STAMP)
	$(VENV)/bin/plantserve demo --store $(STORE) $(DEMO_ARGS)

test: $(STAMP) tools
	PATH="$(CURDIR)/.tools/bin:$$PATH" $(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP) tools
	PATH="$(CURDIR)/.tools/bin:$$PATH" $(PY) -m benchmarks

clean:
	rm -rf var .pytest_cache
