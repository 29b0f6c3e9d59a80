# openmydata task runner. `make help` lists the targets; CI runs `make test` (through .ci/run).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.DEFAULT_GOAL := help
.PHONY: help install demo smoke test test-security lint typecheck importlint docs-check i18n unit bench-provider bench-refresh clean

help: ## List the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-16s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*; touch $(STAMP)

install: $(STAMP) ## Create .venv and install openmydata with its development tools

demo: $(STAMP) ## Start the whole ecosystem on loopback (embedded storage) and print the operator's URL
	$(BIN)/openmydata demo

smoke: $(STAMP) ## Run the ecosystem headless and drive the whole consent flow once
	$(BIN)/openmydata demo --smoke

lint: $(STAMP) ## ruff format check and lint
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench

typecheck: $(STAMP) ## mypy (strict) on src/
	$(BIN)/mypy

importlint: $(STAMP) ## import-linter: the layering contracts of the architecture
	$(BIN)/lint-imports

docs-check: $(STAMP) ## docs/standard-coverage.md is generated from the catalogue and must be current
	$(BIN)/python -m openmydata.standard.coverage --check

LOCALES := src/openmydata/operator/locales
i18n: $(STAMP) ## The operator's page strings (babel.cfg) into messages.pot, merged into each language's messages.po
	$(BIN)/pybabel extract --mapping-file babel.cfg --add-location file --sort-output --no-wrap --project openmydata \
		--output-file $(LOCALES)/messages.pot .
	$(BIN)/pybabel update --input-file $(LOCALES)/messages.pot --output-dir $(LOCALES) --domain messages \
		--ignore-obsolete --no-wrap

PYTEST_WORKERS ?= 2
unit: $(STAMP) ## pytest: in $(PYTEST_WORKERS) processes (one test file per process), then the disruptive tests alone
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile -m "not disruptive"
	$(BIN)/pytest -m disruptive

test: lint typecheck importlint docs-check unit ## The whole test suite: lint, types, layering, docs, tests

test-security: $(STAMP) ## The attack suite
	$(BIN)/pytest tests/security -q -p no:randomly
	@$(BIN)/python -c "from tests.security.attacks import ATTACKS; print(f'{len(ATTACKS)} distinct attacks')"

bench-provider: $(STAMP) ## Provider benchmark: 100,000 people in PostgreSQL, 은행-001/004 vs a bare Starlette baseline
	$(BIN)/python -m bench.provider --people 100000

bench-refresh: $(STAMP) ## Scheduled refresh of 100,000 consents: embedded vs distributed, 1 and 2 worker processes
	$(BIN)/python -m bench.refresh --consents 100000

clean: ## Remove the virtualenv, demo data and caches
	rm -rf $(VENV) .openmydata .mypy_cache .ruff_cache
