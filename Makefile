# Open Runtimes (Python): build, test, run.
#   make test                      every test (runtimes x modes, executor, proxy)
#   make test RUNTIME=node-18.0    the runtime harness for one runtime
#   make images | make image RUNTIME=python-3.11
#   make up | down | status | logs   the local system: proxy :9800, executors :9900 :9901
#   make bench [QUICK=1]           benchmark suite -> bench/results/latest.md (see bench/)
#   make clean
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TABLE := runtimes/runtimes.tsv
RUNTIMES := $(shell awk -F'\t' '!/^#/ && $$1 != "name" {print $$1}' $(TABLE))
# Suites (Debian releases) the selected runtimes need.
ifdef RUNTIME
SUITES := $(shell awk -F'\t' '$$1 == "$(RUNTIME)" {print $$6}' $(TABLE))
SELECTED := $(RUNTIME)
else
SUITES := $(shell awk -F'\t' '!/^#/ && $$1 != "name" {print $$6}' $(TABLE) | sort -u)
SELECTED := $(RUNTIMES)
endif
PYTEST_ARGS ?=

.PHONY: help
help:
	@sed -n '2,7p' Makefile | sed 's/^# *//'

$(VENV)/.installed: setup.cfg pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,bench]'
	@touch $@

.PHONY: venv deps rootfs
venv: $(VENV)/.installed

deps:
	@scripts/ensure-deps.sh

# The Debian roots the process sandbox runs runtimes on (cached, made once with debootstrap).
rootfs: deps
	@for suite in $(SUITES); do scripts/debian.sh rootfs $$suite; done

.PHONY: docker
docker: deps
	@scripts/ensure-docker.sh

.PHONY: image images
image:
	@test -n "$(RUNTIME)" || { echo "usage: make image RUNTIME=<name>  (one of: $(RUNTIMES))"; exit 2; }
	@scripts/build-image.sh $(RUNTIME)

images: docker
	@for name in $(SELECTED); do scripts/build-image.sh $$name || exit 1; done

.PHONY: test
test: venv rootfs docker
	@if docker info >/dev/null 2>&1; then $(MAKE) --no-print-directory images; fi
ifdef RUNTIME
	RUNTIME=$(RUNTIME) $(PY) -m pytest tests/runtimes $(PYTEST_ARGS)
else
	$(PY) -m pytest tests $(PYTEST_ARGS)
endif

.PHONY: bench
# The suite needs the same parts as the tests: Debian roots, and the runtime images when Docker answers.
bench: venv rootfs docker
	@if docker info >/dev/null 2>&1; then $(MAKE) --no-print-directory images; fi
	$(PY) -m bench.suite $(if $(QUICK),--quick)

.PHONY: up down status logs
MODE ?= process
export MODE
up: venv $(if $(filter docker,$(MODE)),docker,rootfs)
	@scripts/up.sh

down:
	@scripts/down.sh

status:
	@scripts/status.sh

logs:
	@scripts/logs.sh

.PHONY: clean
clean:
	rm -rf $(VENV) .pytest_cache .run build *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	rm -rf runtimes/*/src/function/* runtimes/*/example/code.tar.gz
