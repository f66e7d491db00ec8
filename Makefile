# Two commands for a fresh clone: `make run` (serve locally) and `make test` (all suites).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 7071
TEST_AZURITE_PORTS ?= 10010,10011,10012

.PHONY: setup run test lint bench bench-stores clean azurite-start azurite-stop

# Idempotent bootstrap: virtualenv + pinned Python deps, npm deps (Azurite), local.settings.json, intent model.
setup: $(VENV)/.installed node_modules/.installed local.settings.json

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

local.settings.json:
	cp local.settings.sample.json local.settings.json

azurite-start: setup
	$(PY) -m core.devhost.azurite start

azurite-stop:
	@test -x $(PY) && $(PY) -m core.devhost.azurite stop || true

# Starts Azurite, loads every tenant folder under knowledge/tenants (the demo shop), serves on 127.0.0.1:$(PORT).
run: setup
	@$(PY) -m core.devhost.azurite start
	@trap '$(PY) -m core.devhost.azurite stop' EXIT; \
	  set -a; eval "$$($(PY) -c 'import json;[print(f"{k}={json.dumps(str(v))}") for k,v in json.load(open("local.settings.json"))["Values"].items()]')"; set +a; \
	  $(PY) -m core.tenants import-all && \
	  $(PY) -m core.devhost --port $(PORT)

# Every suite (unit, functions, orchestration, integration, e2e); Azurite runs on its own test ports.
test: setup
	@set -o pipefail; \
	  $(PY) -m core.devhost.azurite start --location .azurite-test --ports $(TEST_AZURITE_PORTS) >/dev/null; \
	  trap '$(PY) -m core.devhost.azurite stop --location .azurite-test' EXIT; \
	  export TEST_AZURITE_CONNECTION_STRING="$$($(PY) -m core.devhost.azurite connection-string --ports $(TEST_AZURITE_PORTS))"; \
	  $(PY) -m pytest $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .

clean:
	rm -rf .data .azurite .azurite-test .pytest_cache

# Prints: time from `make run` to the first healthy response, chat-turn latency p50/p95 over 100 turns.
bench: setup
	$(PY) -m tests.bench.chat_latency

# Prints store operation p50/p95 per adapter (SQLite, memory, Cosmos emulator, Azurite blobs, caches, Redis).
bench-stores: setup
	$(PY) -m tests.bench.stores
