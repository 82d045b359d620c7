# The two commands that matter: `make demo` (the main job) and `make test` (everything CI runs).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?= -n 2

.PHONY: install demo demo-finish test lint typecheck pytest clean

$(STAMP): pyproject.toml plugins/wonde/pyproject.toml plugins/csv_mis/pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
		|| { echo "connectkit needs Python >= 3.11 (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]' -e plugins/wonde -e plugins/csv_mis
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) -m connectkit.demo run

demo-finish: $(STAMP)
	$(PY) -m connectkit.demo finish

lint: $(STAMP)
	$(VENV)/bin/ruff check src plugins tests bench examples

typecheck: $(STAMP)
	$(VENV)/bin/mypy src

# pytest exits 5 when it collected no test: that is a failure here, not a pass.
pytest: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

test: lint typecheck pytest

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
