# Two commands for a fresh clone: `make run` (serve locally) and `make test` (all suites).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 7071
TEST_AZURITE_PORTS ?= 10010,10011,10012

.PHONY: setup vendor screenshots run test lint lock package bench-cold-start eval-intent eval-guardrails eval-language eval-shops eval-actions eval-e2e eval-e2e-vendors eval-escalation eval-dialogue-acts eval-rules bench bench-stores eval-rag bench-rag eval-pii bench-pii bench-events bench-load clean azurite-start azurite-stop

# Idempotent bootstrap: virtualenv + pinned Python deps (with the embedding engine, which pip builds from
# core/rag/native), npm deps (Azurite), local.settings.json, the trained models (intent, critic, question type,
# escalation, dialogue act, PII name / address detector, the labelled utterances' vectors), the pages' vendored
# assets and Debian's Chromium for the browser tests.
setup: $(VENV)/.installed node_modules/.installed local.settings.json core/artifacts/intent-model.stamp \
       core/artifacts/critic-model.stamp core/artifacts/question-type-model.stamp \
       core/artifacts/escalation-model.stamp core/artifacts/pii-ner-model.stamp \
       core/artifacts/dialogue-act-model.stamp core/artifacts/labelled-vectors.stamp vendor /usr/bin/chromium

# The pages' npm libraries (Swagger UI) copied into core/web/vendor, a folder the app serves and ships.
vendor: core/web/vendor/swagger-ui-bundle.js core/web/vendor/swagger-ui.css

core/web/vendor/%: node_modules/.installed
	@mkdir -p core/web/vendor
	cp node_modules/swagger-ui-dist/$* $@

# The browser tests drive Debian's Chromium (Playwright's own browser download is not used).
/usr/bin/chromium:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

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

# The offline intent classifier is trained at build time from knowledge/intents into core/artifacts/ (the app's trained
# models, shipped in its package; named by a data fingerprint).
core/artifacts/intent-model.stamp: $(VENV)/.installed $(shell find knowledge/intents -name '*.jsonl' 2>/dev/null) core/agents/intent.py
	OMP_NUM_THREADS=1 $(PY) -m core.agents.intent train
	@touch $@

# The critic's learned input screen, trained at build time from knowledge/guardrails and the intent utterances.
core/artifacts/critic-model.stamp: $(VENV)/.installed $(shell find knowledge/guardrails knowledge/intents knowledge/escalation -name '*.jsonl' 2>/dev/null) core/artifacts/intent-model.stamp core/agents/critic_model.py
	OMP_NUM_THREADS=1 $(PY) -m core.agents.critic_model train
	@touch $@

# The learned PII name / address detector, trained at build time from knowledge/pii (cached by a data fingerprint).
core/artifacts/pii-ner-model.stamp: $(VENV)/.installed knowledge/pii/ner-train.jsonl core/pii/ner.py core/pii/ner_features.py \
                          core/pii/name_lists.py \
                          core/pii/ner_train.py \
                          $(wildcard core/pii/data/*.txt)
	$(PY) -m core.pii.ner_train
	@touch $@

# The question-type model (greeting, thanks, bot?, off-topic... or a question) on the same sentence features.
core/artifacts/question-type-model.stamp: $(VENV)/.installed $(shell find knowledge/question-types knowledge/intents -name '*.txt' -o -name '*.jsonl' 2>/dev/null) core/artifacts/intent-model.stamp core/agents/question_type.py
	OMP_NUM_THREADS=1 $(PY) -m core.agents.question_type train
	@touch $@

# The order-action dialogue's reading of a message (asks to act, asks how, yes, no...) and of a return's reason, on the
# same sentence features.
core/artifacts/dialogue-act-model.stamp: $(VENV)/.installed $(shell find knowledge/dialogue-acts knowledge/return-reasons -name '*.jsonl' 2>/dev/null) core/artifacts/intent-model.stamp core/agents/dialogue_act.py
	OMP_NUM_THREADS=1 $(PY) -m core.agents.dialogue_act train
	@touch $@

# The labelled utterances' vectors that questions are read against by nearest neighbours (own money or how paying
# works, when an order arrives, the product itself), embedded once here instead of on a host's first question.
core/artifacts/labelled-vectors.stamp: $(VENV)/.installed $(shell find knowledge/intents -name '*.jsonl' 2>/dev/null) core/artifacts/intent-model.stamp core/agents/labelled_neighbours.py
	OMP_NUM_THREADS=1 $(PY) -m core.agents.labelled_neighbours train
	@touch $@

# The escalation agent's learned judgement, trained at build time from knowledge/escalation and the intent utterances.
core/artifacts/escalation-model.stamp: $(VENV)/.installed $(shell find knowledge/escalation knowledge/intents -name '*.jsonl' 2>/dev/null) core/artifacts/intent-model.stamp core/agents/escalation_model.py
	OMP_NUM_THREADS=1 $(PY) -m core.agents.escalation_model train
	@touch $@

# Escalation precision and recall per language on each author's messages, with a model trained without them.
eval-escalation: setup
	$(PY) -m tests.evals.escalation

# The dialogue-act and return-reason models per language: on messages written apart from their data, and with each
# writing style held out in turn.
eval-dialogue-acts: setup
	$(PY) -m tests.evals.dialogue_acts --styles

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

# Order actions scored by the shop's final state (tests/evals/actions/*.json, τ-bench style): each scripted customer
# talks to a fresh local host; pass rates per action, language, kind and shop.
eval-actions: setup
	$(PY) -m tests.evals.actions

# The e2e conversation suite over HTTP, pass rate by category.
eval-e2e: setup
	$(PY) -m tests.e2e.runner

# The same suite with SHOP_DATA=shopify and TICKET_DESK=zendesk pointed at the local stand-ins (core/devhost/standins);
# every escalation must also reach the Zendesk stand-in as a ticket.
eval-e2e-vendors: setup
	$(PY) -m tests.e2e.runner --vendors

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

# Screenshots of the chat widget and the operator console for the README (docs/screenshots/*.png).
screenshots: setup
	$(PY) -m tests.browser.screenshots

lint: setup
	$(VENV)/bin/ruff check .

# dist/shopdesk.zip: what `func azure functionapp publish` / `azd deploy` ship (.funcignore), with the trained models
# in core/artifacts/ (docs/deploy.md).
package: setup
	$(PY) -m core.deploy.package

# The package unpacked and started cold (empty DATA_DIR): onboarding through the import endpoint, first reply,
# a restart's first reply; seconds from process start (docs/deploy.md).
bench-cold-start: package
	@set -o pipefail; \
	  $(PY) -m core.devhost.azurite start --location .azurite-test --ports $(TEST_AZURITE_PORTS) >/dev/null; \
	  trap '$(PY) -m core.devhost.azurite stop --location .azurite-test' EXIT; \
	  export TEST_AZURITE_CONNECTION_STRING="$$($(PY) -m core.devhost.azurite connection-string --ports $(TEST_AZURITE_PORTS))"; \
	  $(PY) -m tests.bench.cold_start dist/shopdesk.zip

# requirements.txt, every distribution the app installs pinned, resolved from requirements.in (pip-tools keeps the
# pins already there unless requirements.in asks otherwise); the engine folder stays a relative path.
lock: $(VENV)/.installed
	CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile --quiet --strip-extras --allow-unsafe \
	  --no-emit-index-url --no-emit-find-links --output-file requirements.txt requirements.in
	sed -i 's|^shopdesk-e5engine @ file://.*/core/rag/native$$|./core/rag/native|' requirements.txt

clean:
	rm -rf .data core/artifacts dist .azurite .azurite-test .pytest_cache

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
	$(PY) -m tests.evals.pii_detectors

# Tokenize + detokenize p50/p95 per message; embedded and Key Vault (50-100 ms simulated) vault operations.
bench-pii: setup
	$(PY) -m tests.bench.pii

# Webhooks accepted/s and p50/p99, events/s through bus -> handlers, retried/dead-lettered/lost with 10 % faults.
bench-events: setup
	$(PY) -m tests.bench.events

# Closed-loop load: 1, 10, 50, 100 customers in 4-turn conversations (turns/s, p50/p95, non-200, CPU per turn),
# then webhook bursts through the event bus with the seed's limits. BASELINE=<dir>: the same table for another
# checkout in the same run (e.g. `git worktree add /tmp/base <commit>`). Azurite on LOAD_AZURITE_PORTS.
LOAD_AZURITE_PORTS ?= 10143,10144,10145
bench-load: setup
	$(PY) -m tests.bench.load --azurite-ports $(LOAD_AZURITE_PORTS) $(if $(BASELINE),--baseline $(BASELINE)) $(LOAD_ARGS)
