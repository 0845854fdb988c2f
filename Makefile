# Tasks for the template repository itself; `make` lists them.
# Everything runs with .venv (made by `make bootstrap`), which holds the template's
# tools and every dependency a baked project declares.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.bootstrapped
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export DVC_NO_ANALYTICS := 1
CHECKED := hooks scripts tests template_choices.py

.DEFAULT_GOAL := help
.PHONY: help bootstrap test quick demo bench-train sweep-tables lock lint format clean

help: ## Show this list of targets
	@awk 'BEGIN { FS = ":.*## " } /^[a-zA-Z_-]+:.*## / { printf "  %-12s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

bootstrap: $(STAMP) ## Create .venv with uv and install the pins in requirements-dev.txt

# uv comes from PATH, or is installed into .venv with pip when absent. Bytecode is compiled at
# install: with PYTHONDONTWRITEBYTECODE set, each pipeline stage would compile its imports
# (MLflow, scikit-learn, SQLAlchemy) anew at every start.
$(STAMP): requirements-dev.txt
	@set -e; \
	if command -v uv >/dev/null 2>&1; then \
		uv=uv; \
		[ -x $(VENV)/bin/python ] || uv venv --seed --python $(PYTHON) $(VENV); \
	else \
		[ -x $(VENV)/bin/python ] || $(PYTHON) -m venv $(VENV); \
		$(VENV)/bin/python -m pip install --quiet uv; \
		uv=$(VENV)/bin/uv; \
	fi; \
	$$uv pip install --compile-bytecode --python $(VENV)/bin/python -r requirements-dev.txt
	@touch $@

# On every core; tests that share a trained or baked project stay on one worker (tests/conftest.py).
PARALLEL := -n auto --dist loadgroup --no-loadscope-reorder

test: bootstrap ## Run the template tests (hooks, bakes, end-to-end)
	sh scripts/ensure-system-tools.sh
	pytest $(PARALLEL)

# Everything that bakes without training: options, hooks, prompts, file sets, linters, updates.
QUICK_TESTS := tests/test_hooks.py tests/test_prompts.py tests/test_baking.py tests/test_bake.py \
	tests/test_update.py
quick: bootstrap ## The inner loop (a few minutes): lint, then every test that bakes but trains nothing
	ruff check $(CHECKED) && ruff format --check $(CHECKED)
	pytest -q $(PARALLEL) $(QUICK_TESTS)

demo: bootstrap ## Bake the default project into demo/, train it, serve one prediction
	python scripts/demo.py

# About 5 minutes a table on a quiet machine; AutoGluon's environment (.venv-autogluon, about
# 1 GB) is made at the first run.
bench-train: bootstrap ## Train each known table (TABLES="caravan hpc": some; SEEDS="1 2 3": splits); vs FLAML and AutoGluon
	python scripts/bench_train.py $(if $(TABLES),--tables $(TABLES)) $(if $(SEEDS),--seeds $(SEEDS))

# About a minute a table (20 minutes for all): every stage, then every record served.
sweep-tables: bootstrap ## Bake, train and serve tables nobody tuned for (TABLES="mpg esoph": some)
	python scripts/sweep_tables.py $(if $(TABLES),--tables $(TABLES))

# uv finds (or downloads) each Python of cookiecutter.json's python_version choices.
lock: bootstrap ## Refresh the project's uv.lock and requirements-dev.txt (UPGRADE=1: newest versions)
	python scripts/lock.py $(if $(UPGRADE),--upgrade)

lint: bootstrap ## Check the hooks, scripts and tests with ruff
	ruff check $(CHECKED) && ruff format --check $(CHECKED)

format: bootstrap ## Fix and format the hooks, scripts and tests with ruff
	ruff check --fix $(CHECKED) && ruff format $(CHECKED)

clean: ## Remove demo/ and caches (keeps .venv)
	rm -rf demo .pytest_cache .ruff_cache
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +
