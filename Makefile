# Citizen Hub — `make run` and `make test` are all a fresh clone needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEV_ENV := CITIZENHUB_ENVIRONMENT=development
HOST ?= 127.0.0.1
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: run test install migrate seed lint typecheck messages bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall when the dependency list changes; compile the message catalogs as part of install.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -d app/translations --statistics 2>&1 | tail -n 2

migrate: install
	$(DEV_ENV) $(BIN)/citizen-hub migrate

seed: migrate
	$(DEV_ENV) $(BIN)/citizen-hub seed-demo

run: seed
	$(DEV_ENV) $(BIN)/citizen-hub serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check app notifications tests bench
	$(BIN)/ruff format --check app notifications tests bench

typecheck: install
	$(BIN)/mypy

# Re-extract user-visible strings and merge them into the vi and en catalogs.
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k N_ -o app/translations/messages.pot \
		--no-location --sort-output --width 100 --project "Citizen Hub" .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations \
		--no-fuzzy-matching --ignore-obsolete --width 100

bench: install
	$(BIN)/python bench/run.py --db both

clean:
	rm -rf var/ .pytest_cache .mypy_cache .ruff_cache
