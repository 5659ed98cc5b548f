# The two commands of the README: `make demo` and `make test`. Each creates .venv and installs on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Extra pip arguments, e.g. PIP_ARGS="--extra-index-url https://download.pytorch.org/whl/cpu" for CPU-only torch.
PIP_ARGS ?=

.PHONY: demo test lint install clean-data

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 11) else "Python 3.11+ is needed; set PYTHON=/path/to/python3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(PIP_ARGS) -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m scripts.demo

test: $(STAMP)
	$(BIN)/python -m scripts.test $(ARGS)

# makemigrations --check compares the models with the migrations; it also checks the database's migration history,
# but only against an embedded PostgreSQL that is running already: lint starts none (it would outlive lint).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	EMBEDDED_POSTGRES_AUTOSTART=0 $(BIN)/python \
		-W "ignore:Got an error checking a consistent migration history:RuntimeWarning" \
		manage.py makemigrations --check --dry-run

clean-data:
	-$(BIN)/python manage.py embedded_db stop
	rm -rf .data
