# CommonGround — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# pytest-xdist workers for `make test` (one per core of the 2-core machines; 0 runs in one process).
TEST_WORKERS ?= 2

.PHONY: run test install lint format bench messages schema clean

# The stamp holds the hash of the requirements it installed, not a date: a fresh
# clone (new file dates) pointed at an existing virtualenv with `VENV=...` reuses
# it as long as requirements.txt says the same thing.
REQ_HASH = $(shell sha256sum requirements.txt | cut -d' ' -f1)

install:
	@test -x $(PY) || { $(PYTHON) -m venv $(VENV) && $(PY) -m pip install --quiet --upgrade pip; }
	@if [ "$$(cat $(VENV)/.installed 2>/dev/null)" != "$(REQ_HASH)" ]; then \
	  echo "Installing requirements into $(VENV)"; \
	  $(PY) -m pip install --quiet -r requirements.txt && echo "$(REQ_HASH)" > $(VENV)/.installed; \
	fi

## run: install, migrate, load demo data, serve with the Celery worker and beat (embedded by default)
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	PORT=$(PORT) $(PY) -m config.devserver

## test: lint (ruff, and the layers in .importlinter), then the whole suite against real PostgreSQL, Redis and Chromium, on TEST_WORKERS workers (tests/conftest.py)
test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## bench: city-scale benchmarks on PostgreSQL (writes var/bench.json): escalation sweep, dashboard, resident form, and the
## HTTP section (list pages, API, Open311 and single reads under gunicorn at 1 000 000 and 5 000 000 issues).
## BENCH_ISSUES (size, default 1000000), BENCH_ONLY=escalation|dashboard|form_load|http, BENCH_RELOAD=1,
## BENCH_HTTP_SIZES, _CLIENTS, _WORKERS, _SECONDS, _WARMUP_SECONDS, _PAGES: see benchmarks/run.py and benchmarks/http.py
bench: install
	$(PY) -m benchmarks.run

## messages: rebuild the Spanish translations (needs gettext's msgfmt)
messages: install
	$(PY) manage.py makemessages -l es --ignore=.venv --ignore=var
	$(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf var/test var/broker var/cache
