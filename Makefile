# Two commands on a fresh machine: `make run` and `make test`. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Settings from .env (see .env.example), if there is one.
ifneq (,$(wildcard .env))
include .env
export
endif
export PATH := $(CURDIR)/.tools/bun/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: run test setup migrate admin lint format bench bench-pool bench-models eval clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

## setup: virtualenv with pinned requirements, and bun for the Reflex front end
setup: $(VENV)/.installed
	@scripts/ensure_bun.sh

## migrate: apply the Alembic migrations to the configured database
migrate: setup
	$(PY) -m alembic upgrade head

## run: set everything up and start the app on http://localhost:3000 (SQLite by default)
run: migrate
	$(VENV)/bin/reflex run

## admin: make EMAIL an admin (creates the account if needed): make admin EMAIL=you@example.com
admin: migrate
	@test -n "$(EMAIL)" || (echo "usage: make admin EMAIL=you@example.com" >&2; exit 2)
	$(PY) -m llm_chat.cli admin "$(EMAIL)"

## lint: ruff (lint + format check) and pyright
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pyright

## format: apply ruff's fixes and formatting
format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## test: set up, then lint and the whole suite (needs MariaDB/MySQL on 127.0.0.1:3306)
test: setup
	@scripts/ensure_chromium.sh
	$(PY) -m tests.support.require_mysql
	$(MAKE) --no-print-directory lint
	$(PY) -m pytest -p no:cacheprovider $(PYTEST_ARGS)

## bench: the performance benchmarks of the issue (browser + protocol load); QUICK=1 for ~2 minutes
bench: setup
	@scripts/ensure_chromium.sh
	$(PY) -m bench.run $(if $(QUICK),--quick,)

## bench-pool: 200 API chats and 100 web users at once on MariaDB: errors, pool waits, stalls
bench-pool: setup
	$(PY) -m bench.pool_load

## bench-models: how long 100 open chat pages take to show an added or disabled model
bench-models: setup
	$(PY) -m bench.model_changes

## eval: knowledge-base retrieval on CMRC 2018 (dense, BM25, hybrid); SET=path for another set
eval: setup
	$(PY) -m bench.retrieval_eval $(SET)

clean:
	rm -rf .web .states test-output
