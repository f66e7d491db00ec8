# Two commands for a fresh clone: `make run` (serve locally) and `make test` (all suites).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 7071
TEST_AZURITE_PORTS ?= 10010,10011,10012

.PHONY: setup run test lint eval-intent eval-guardrails eval-language eval-shops eval-e2e eval-escalation eval-rules bench bench-stores eval-rag bench-rag eval-pii bench-pii bench-events clean azurite-start azurite-stop

# Idempotent bootstrap: virtualenv + pinned Python deps (with the embedding engine, which pip builds from
# core/rag/native), npm deps (Azurite), local.settings.json, intent, critic and escalation models.
setup: $(VENV)/.installed node_modules/.installed local.settings.json .data/intent-model.stamp .data/critic-model.stamp \
       .data/escalation-model.stamp

ENGINE_SOURCES := $(wildcard core/rag/native/*.c core/rag/native/*.h core/rag/native/*.py core/rag/native/*.toml \
                    core/rag/native/e5engine/*.py)

# A changed engine source reinstalls the requirements: pip rebuilds a local folder's package every time.
$(VENV)/.installed: requirements.txt requirements-dev.txt $(ENGINE_SOURCES)
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Created from the sample; later runs add settings the sample gained since (the developer's values are kept).
local.settings.json: local.settings.sample.json $(VENV)/.installed
	@$(PY) -m core.devhost.settings local.settings.sample.json local.settings.json
	@touch $@

# The offline intent classifier is trained at build time from knowledge/intents (cached by a data fingerprint).
.data/intent-model.stamp: $(VENV)/.installed $(shell find knowledge/intents -name '*.jsonl' 2>/dev/null) core/agents/intent.py
	@mkdir -p .data
	OMP_NUM_THREADS=1 $(PY) -m core.agents.intent train
	@touch $@

# The critic's learned input screen, trained at build time from knowledge/guardrails and the intent utterances.
.data/critic-model.stamp: $(VENV)/.installed $(shell find knowledge/guardrails knowledge/intents -name '*.jsonl' 2>/dev/null) .data/intent-model.stamp core/agents/critic_model.py
	OMP_NUM_THREADS=1 $(PY) -m core.agents.critic_model train
	@touch $@

# The escalation agent's learned judgement, trained at build time from knowledge/escalation and the intent utterances.
.data/escalation-model.stamp: $(VENV)/.installed $(shell find knowledge/escalation knowledge/intents -name '*.jsonl' 2>/dev/null) .data/intent-model.stamp core/agents/escalation_model.py
	OMP_NUM_THREADS=1 $(PY) -m core.agents.escalation_model train
	@touch $@

# Escalation precision and recall per language on each author's messages, with a model trained without them.
eval-escalation: setup
	$(PY) -m tests.evals.escalation

# The critic's input screen per language on each guardrail author's messages, trained without them.
eval-guardrails: setup
	$(PY) -m tests.evals.guardrails

# Intent classifier macro-F1 per language on the held-out split.
eval-intent: setup
	$(PY) -m tests.evals.intent

# Language detection accuracy per language on the labelled utterances, the blind set and short messages.
eval-language: setup
	$(PY) -m tests.evals.language

# Shops written outside the project (tests/evals/shops): each imported into a fresh local host, its customers'
# questions asked over HTTP; conversations and turns passed per language.
eval-shops: setup
	$(PY) -m tests.evals.shops

# Hand-written rules left in the language-facing code: regex alternatives and word lists per folder.
eval-rules: setup
	$(PY) -m tests.evals.rules

# The e2e conversation suite over HTTP, pass rate by category.
eval-e2e: setup
	$(PY) -m tests.e2e.runner

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

# Prints store operation p50/p95 per adapter (SQLite, memory, Cosmos emulator, Azurite blobs).
bench-stores: setup
	$(PY) -m tests.bench.stores

# Retrieval eval over knowledge/eval/retrieval: recall@1/@3, MRR, no-answer figures by language, kind and tenant.
eval-rag: setup
	$(PY) -m tests.evals.rag --calibrate

# Knowledge search p50/p95 at 75 docs and on a generated 100k-chunk corpus, ingest throughput, memory.
bench-rag: setup
	$(PY) -m tests.bench.rag

# PII detection on the labelled messages (en, fr-CA, es + held-out): leak rate, precision, per category, round trip.
eval-pii: setup
	$(PY) -m tests.evals.pii

# Tokenize + detokenize p50/p95 per message; embedded and Key Vault (50-100 ms simulated) vault operations.
bench-pii: setup
	$(PY) -m tests.bench.pii

# Webhooks accepted/s and p50/p99, events/s through bus -> handlers, retried/dead-lettered/lost with 10 % faults.
bench-events: setup
	$(PY) -m tests.bench.events
