# Past-Life Gallery. `make demo` and `make test` set everything up themselves.
PYTHON ?= python3.11
VENV := .venv
SAM_VENV := .sam-venv
STAMP := $(VENV)/.installed
SAM_STAMP := $(SAM_VENV)/.installed

.PHONY: setup demo test lint bench bench-pipeline bench-quality serve clean

setup: $(STAMP) $(SAM_STAMP)

$(STAMP): requirements.txt requirements-dev.txt requirements-nodeps.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found; set PYTHON=python3.11+"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip==25.3
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	$(VENV)/bin/pip install --quiet --no-deps -r requirements-nodeps.txt
	$(VENV)/bin/pip install --quiet --no-deps -e .
	touch $@

# SAM CLI pins an older boto3 than the application, so it lives in its own environment.
$(SAM_STAMP): requirements-sam.txt
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --upgrade pip==25.3
	$(SAM_VENV)/bin/pip install --quiet -r requirements-sam.txt
	touch $@

demo: setup
	$(VENV)/bin/gallery demo

# Two pytest runs: unit tests use moto's in-process mock (it resets moto's global backends),
# end-to-end and browser tests share one running local stack.
test: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest tests/unit
	$(VENV)/bin/pytest tests/e2e $(wildcard tests/browser)

bench: bench-pipeline bench-quality

bench-pipeline: setup
	$(VENV)/bin/python bench/pipeline_latency.py

bench-quality: setup
	$(VENV)/bin/python bench/swap_quality.py

clean:
	rm -rf $(VENV) $(SAM_VENV) out bench/out .pytest_cache .ruff_cache
