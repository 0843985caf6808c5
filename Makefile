# Every target sets itself up: a fresh machine needs only Python 3.11 and pip.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PLUGINS := $(sort $(dir $(wildcard plugins/*/pyproject.toml)))
STAMP  := $(VENV)/.installed
SOURCES := pyproject.toml core/pyproject.toml $(addsuffix pyproject.toml,$(PLUGINS))

.PHONY: setup test soak demo bench docs lint typecheck clean

setup: $(STAMP)

$(STAMP): $(SOURCES)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e core $(addprefix -e ,$(PLUGINS)) -e '.[dev]'
	# Dinero's public client, run unmodified against the emulator: its metadata pins requests
	# 2.20 and click<8, which it does not need; it runs on what the dev extras bring
	$(BIN)/python -m pip install -q --no-deps toggl-dinero==0.2.1
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

# the merge model's state machines with the soak profile: at least 10,000 steps of the main
# one (SYNCBRIDGE_SOAK=1, see tests/engine/test_engine_stateful.py), the others longer too;
# two malloc arenas keep the many short-lived engine threads from growing the process
soak: $(STAMP)
	SYNCBRIDGE_SOAK=1 MALLOC_ARENA_MAX=2 $(BIN)/python -m pytest -q -s -p no:cacheprovider --timeout=0 \
		tests/engine/test_engine_stateful.py tests/integrations/test_killed_creates.py

demo: $(STAMP)
	$(BIN)/syncbridge demo

bench: $(STAMP)
	$(BIN)/python bench/run.py

# mkdocs-material, mkdocs-gen-files and mkdocs-literate-nav come with the dev extras; the
# variables silence the "MkDocs 2.0" notices that material and those two plugins print each build
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 DISABLE_MKDOCS_2_WARNING=true $(BIN)/mkdocs build --strict

lint: $(STAMP)
	$(BIN)/ruff check core plugins tests bench cookiecutter-connector
	$(BIN)/mypy core/src
	for init in plugins/*/src/syncbridge_*/__init__.py; do $(BIN)/mypy -p $$(basename $$(dirname $$init)) || exit 1; done

clean:
	rm -rf $(VENV) site
