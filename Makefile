# The two commands: `make run` (the bot; a local web chat when BOT_TOKEN is unset)
# and `make test` (the whole suite). Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test test-pg run lint bench mutate

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		-r requirements.txt -r requirements-dev.txt
	bash scripts/ensure-cjk-font
	touch $(STAMP)

# ruff, then the suite on SQLite and, in the same pytest session, its PostgreSQL part on
# a throwaway local cluster (scripts/check; the modules listed in tests/postgres.txt).
test: $(STAMP)
	@bash scripts/ensure-chromium
	@bash scripts/check

# The PostgreSQL part alone (no ruff), the quick check of a storage change.
test-pg: $(STAMP)
	@LINT=0 bash scripts/check -m postgres

run: $(STAMP)
	@if [ -n "$$BOT_TOKEN" ]; then $(BIN)/python bot.py run; else \
		echo "BOT_TOKEN is not set: starting the demo with a local web chat instead."; \
		$(BIN)/python bot.py demo; fi

lint: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python bench/classify.py
	$(BIN)/python bench/e2e.py
	$(BIN)/python bench/wechat.py
	$(BIN)/python bench/office.py
	$(BIN)/python bench/push.py
	$(BIN)/python bench/flood.py
	$(BIN)/python bench/slow_api.py

# Mutation testing of the pure rules (not part of `make test`: it takes minutes).
# Configured in pyproject.toml. mutmut keeps a survivor's verdict even after the tests
# change, so each run starts afresh for an honest figure.
mutate: $(STAMP)
	rm -rf mutants
	HYPOTHESIS_PROFILE=ci $(BIN)/mutmut run --max-children 2
	$(BIN)/python scripts/mutation_score.py
