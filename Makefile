# The README's commands: `make run`, `make demo` and `make test`. `make bench` measures.
# `make demo DEMO_ARGS="--no-wait"` passes options to `mecene demo` (`mecene demo --help` lists them).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Besides gettext's own names, the refusals whose English templates are translated where they are shown.
KEYWORDS := -k MoneyError:2 -k CurrencyMismatch:1 -k WithdrawalError:2 -k RefundError:2 -k TermsError:2 -k ClearingError:2

.PHONY: install run demo test bench messages clean

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

# Gathers every message of the pages, the bot and the emails, and adds the new ones to the French catalogue
# (server/i18n/locale/fr/LC_MESSAGES/messages.po) for a translator; `make test` fails until each has its French.
messages: install
	$(BIN)/pybabel extract -F babel.cfg $(KEYWORDS) --no-location --sort-output -o server/i18n/messages.pot .
	$(BIN)/pybabel update -i server/i18n/messages.pot -d server/i18n/locale -l fr --no-fuzzy-matching --ignore-obsolete
	rm server/i18n/messages.pot

clean:
	rm -rf $(VENV) .pytest_cache
