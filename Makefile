# fedstake: `make demo` sets everything up and runs the default scenario;
# `make test` sets everything up and runs the tests.

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NODE   := node_modules/.installed
OUT    ?= results/quickstart
PYTEST_WORKERS ?= 2

export FLWR_TELEMETRY_ENABLED = 0

.PHONY: demo test test-slow bench-sim bench-chain bench-federation bench-protocol setup vendor clean

setup: $(STAMP) $(NODE)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# anvil (the real-node backend) comes from npm; its Linux binary is an optional
# dependency, so never pass --omit=optional.
$(NODE): package.json package-lock.json
	npm install --no-audit --no-fund
	touch $(NODE)

# The dashboard's JavaScript comes from npm and is vendored into the package (and
# committed), so a pip install serves it with no npm and nothing fetched at run time.
STATIC := src/fedstake/dashboard/static
VENDORED := $(STATIC)/uPlot.iife.min.js $(STATIC)/uPlot.min.css $(STATIC)/sha3.min.js

vendor: $(NODE)
	cp node_modules/uplot/dist/uPlot.iife.min.js node_modules/uplot/dist/uPlot.min.css $(STATIC)/
	cp node_modules/js-sha3/build/sha3.min.js $(STATIC)/

# The browser tests drive Debian's chromium through Playwright (whose own browser
# download is not reachable); CI runs as root, so it installs the package. Without root
# the install fails with a note, and the browser tests skip saying chromium is absent.
CHROMIUM := /usr/bin/chromium

$(CHROMIUM):
	(apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium) || \
		echo "note: could not install Debian's chromium (not root?); the browser tests will skip"

demo: $(STAMP) $(NODE)
	$(BIN)/fedstake simulate --config examples/quickstart.toml --out $(OUT)

test: $(STAMP) $(NODE) $(CHROMIUM) vendor
	$(BIN)/python -m pytest -m "not slow" -n $(PYTEST_WORKERS) -q

test-slow: $(STAMP) $(NODE)
	$(BIN)/python -m pytest -m slow -n $(PYTEST_WORKERS) -q

# fedstake's learning engine against Flower's run_simulation and a plain loop;
# the last line is one JSON object (100-client case).
bench-sim: $(STAMP)
	OMP_NUM_THREADS=1 $(BIN)/python benchmarks/bench_sim.py

# transactions and reads per second of each chain backend, against web3 +
# eth-tester measured in the same run; the last line is one JSON object.
bench-chain: $(STAMP) $(NODE)
	$(BIN)/python benchmarks/bench_chain.py

# fedstake up against fedstake simulate on examples/deploy-local.toml: bring-up,
# time per round (the ratio), peak RSS per process; the last line is one JSON object.
bench-federation: $(STAMP) $(NODE)
	$(BIN)/python benchmarks/bench_federation.py

# the quickstart's `fedstake simulate` outside its rounds (start-up, world set-up, report,
# exit) against `python -c "import torch"` in the same run; the last line is one JSON object.
bench-protocol: $(STAMP)
	$(BIN)/python benchmarks/bench_protocol.py

# mythril over every deployable contract's unoptimised runtime bytecode, in its
# own venv (its eth pins conflict with web3 8); see audit/README.md.
AUDIT_VENV  := .venv-audit
AUDIT_STAMP := $(AUDIT_VENV)/.installed
AUDIT_ARGS  ?=

.PHONY: audit

$(AUDIT_STAMP): audit/requirements.txt audit/constraints.txt
	test -x $(AUDIT_VENV)/bin/python || $(PYTHON) -m venv $(AUDIT_VENV)
	$(AUDIT_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(AUDIT_VENV)/bin/python -m pip install --quiet -c audit/constraints.txt -r audit/requirements.txt
	touch $(AUDIT_STAMP)

audit: $(STAMP) $(AUDIT_STAMP)
	$(BIN)/python audit/run_mythril.py --myth $(AUDIT_VENV)/bin/myth --out results/audit $(AUDIT_ARGS)

clean:
	rm -rf $(VENV) $(AUDIT_VENV) node_modules results .pytest_cache .hypothesis
