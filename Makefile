# Two entry points: `make demo` and `make test`. Both create .venv on first use (idempotent).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint setup bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

# The demo ledger, then its 2024 report in both languages; the PDF when WeasyPrint finds Pango
# (Debian: libpango-1.0-0 fonts-noto-cjk, which scripts/ci_postgres.sh installs as root).
demo: $(STAMP)
	$(BIN)/esgledger demo
	@pdf=pdf; $(BIN)/python -c 'import weasyprint' 2>/dev/null || { pdf=; \
	  echo "report: no PDF (WeasyPrint needs Pango: apt-get install libpango-1.0-0 fonts-noto-cjk)"; }; \
	for f in html docx xlsx $$pdf; do \
	  $(BIN)/esgledger report build --year 2024 --lang all --format $$f \
	    --ledger esgledger-demo/demo.db --out esgledger-demo/report || exit 1; \
	done

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

test: $(STAMP) lint
	$(BIN)/pytest -n 2 -q

bench: $(STAMP)
	$(BIN)/python bench/run.py --sizes 1000000 10000000 --spread sites
	$(BIN)/python bench/run.py --sizes 1000000 10000000 --spread all

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
