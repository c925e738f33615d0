# Past-Life Gallery. `make demo` and `make test` set everything up themselves.
PYTHON ?= python3.11
VENV := .venv
SAM_VENV := .sam-venv
CHECKOV_VENV := .checkov-venv
STAMP := $(VENV)/.installed
SAM_STAMP := $(SAM_VENV)/.installed
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

.PHONY: setup demo test lint typecheck checkov chromium bench bench-pipeline bench-quality bench-look bench-matching bench-catalog loadtest serve clean

setup: $(STAMP) $(SAM_STAMP) $(CHECKOV_STAMP)

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

# checkov, too, pins an older boto3: its own environment.
$(CHECKOV_STAMP): requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --upgrade pip==25.3
	$(CHECKOV_VENV)/bin/pip install --quiet -r requirements-checkov.txt
	touch $@

demo: setup
	$(VENV)/bin/gallery demo

# Two pytest runs: unit tests use moto's in-process mock (it resets moto's global backends),
# end-to-end and browser tests share one running local stack.
test: setup chromium
	$(VENV)/bin/ruff check .
	$(MAKE) --no-print-directory typecheck
	$(MAKE) --no-print-directory checkov
	$(VENV)/bin/pytest tests/unit
	$(VENV)/bin/pytest tests/e2e $(wildcard tests/browser)

# mypy over the functions, their layer, the local stack, the face engine and bench/; settings in
# pyproject.toml [tool.mypy].
# The payloads the functions pass are the TypedDicts of layers/gallery/python/gallery/contracts.py.
typecheck: setup
	$(VENV)/bin/mypy

# checkov does not expand SAM resources: it checks the template and SAM's transform of it.
# Skipped checks and their reasons are in .checkov.yaml.
checkov: setup
	@mkdir -p build/checkov
	env -u AWS_ENDPOINT_URL AWS_DEFAULT_REGION=eu-west-1 SAM_CLI_TELEMETRY=0 \
		$(SAM_VENV)/bin/python scripts/sam_transform.py template.yaml build/checkov/transformed.yaml
	$(CHECKOV_VENV)/bin/checkov --config-file .checkov.yaml -f template.yaml -f build/checkov/transformed.yaml

# Debian's Chromium for the browser tests: installed when missing, or a failure that says
# what to install (never skipped browser tests).
chromium:
	scripts/ensure-chromium

bench: bench-pipeline bench-quality bench-look bench-matching bench-catalog

bench-pipeline: setup
	$(VENV)/bin/python bench/pipeline_latency.py

bench-quality: setup
	$(VENV)/bin/python bench/swap_quality.py

# Seam, skin colour and identity of the swap's results, with contact sheets in bench/out
# (10-15 minutes on 2 cores). LOOK_ARGS="--label after", or "--label before --engine-rev REV" for a baseline.
bench-look: setup
	$(VENV)/bin/python bench/swap_look.py $(LOOK_ARGS)

# The ladder and the no-repeat rule on 1,000 simulated visitors (no stack needed, about a second).
bench-matching: setup
	$(VENV)/bin/python bench/matching.py

bench-catalog: setup
	$(VENV)/bin/python bench/catalog_throughput.py

# The load test at 1x and 3x the expected busiest hour (local/gallery_local/load_profile.json),
# 2 minutes each on 8 kiosks, then its section of bench/RESULTS.md (about 6-8 minutes).
LOADTEST := $(VENV)/bin/gallery loadtest --tablets 8 --minutes 2 --seed 1
loadtest: setup
	$(LOADTEST) --peak-multiplier 1 --out out/loadtest/1x
	$(LOADTEST) --peak-multiplier 3 --out out/loadtest/3x
	$(VENV)/bin/python -m gallery_local.loadtest results "make loadtest ($(LOADTEST) --peak-multiplier 1|3)" \
		out/loadtest/1x out/loadtest/3x

clean:
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) build/checkov out bench/out .pytest_cache .ruff_cache
