# The README's commands: `make run`, `make demo` and `make test`. `make bench` measures.
# `make demo DEMO_ARGS="--no-wait"` passes options to `mecene demo` (`mecene demo --help` lists them).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run demo test bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@echo "Installing Mecene and what it needs into $(VENV)/ (once; a minute or two)..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

run: install
	@test -f data/mecene.toml || $(BIN)/mecene init
	$(BIN)/mecene serve

demo: install
	$(BIN)/mecene demo $(DEMO_ARGS)

test: install
	$(BIN)/ruff check common config federation server settlement tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -n 4 --dist worksteal

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache
