# Two entry points a new user needs: `make run` and `make test`. Both bootstrap the virtualenv.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP_RUN  := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test
# Pinned versions of everything pica and its tests install (see constraints.txt); CONSTRAINTS=
# installs the newest versions the ranges in pyproject.toml allow.
CONSTRAINTS ?= constraints.txt
PIP_CONSTRAINTS := $(if $(CONSTRAINTS),-c $(CONSTRAINTS))

.PHONY: run test lint typecheck check bench bench-profile clean fuzz

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (or: make PYTHON=python3 ...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet $(PIP_CONSTRAINTS) -e .
	@touch $@

$(STAMP_TEST): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet $(PIP_CONSTRAINTS) -e '.[test]'
	@touch $@ $(STAMP_RUN)

run: $(STAMP_RUN)
	$(BIN)/pica serve $(ARGS)

lint: $(STAMP_TEST)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP_TEST)
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The issue 8 table (a few minutes; installs wrk with apt-get when missing and root). Flags go in
# BENCH_ARGS, e.g. make bench BENCH_ARGS="--quick --only sqlite"; see bench/README.md.
bench: $(STAMP_TEST)
	$(BIN)/python -m bench issuance $(BENCH_ARGS)

# The same plus py-spy profiles of the server (IssueCertificate, GetCertificate, OCSP) in bench/out/.
bench-profile: $(STAMP_TEST)
	$(BIN)/python -m bench issuance --profile $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis

# A long property-based fuzz run against a live server (see tests/fuzz/run.py):
# make fuzz FUZZ_ARGS="--requests 100000 --processes 4"
fuzz: $(STAMP_TEST)
	$(BIN)/python -m tests.fuzz $(FUZZ_ARGS)
