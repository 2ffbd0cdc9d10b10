# dlaas-gen: the two commands a newcomer needs are `make render` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.installed-runtime
TEST_STAMP    := $(VENV)/.installed-test
LINT_STAMP    := $(VENV)/.installed-lint
RUCIO_VENV    := .venv-rucio

.PHONY: venv render check test test-fast test-live schema update-snapshots bench fuzz lint clean docs docs-generated

venv: $(RUNTIME_STAMP)

$(RUNTIME_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $@

# setuptools reports every editable install with an information-only "Editable installation"
# warning (setuptools.warnings.InformationOnly); it is not a packaging problem, so it is hidden.
$(RUNTIME_STAMP) $(TEST_STAMP) $(LINT_STAMP): export PYTHONWARNINGS := ignore:Editable installation:UserWarning

$(TEST_STAMP): $(RUNTIME_STAMP) pyproject.toml
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

$(LINT_STAMP): $(TEST_STAMP) pyproject.toml
	$(BIN)/python -m pip install -q -e '.[test,lint]'
	touch $@

$(RUCIO_VENV)/.installed: tests/realtools/setup_rucio_venv.sh
	bash tests/realtools/setup_rucio_venv.sh $(RUCIO_VENV)
	touch $@

## render: set up the venv and render every site in sites/ into rendered/
render: venv
	$(BIN)/dlaas-gen render

## check: what CI checks: rendered/ up to date and valid
check: venv
	$(BIN)/dlaas-gen render --check
	$(BIN)/dlaas-gen validate

## test: every test, including the real-tool checks (kubectl, KubeSpawner, JupyterHub, Rucio)
test: $(TEST_STAMP) $(RUCIO_VENV)/.installed docs
	$(BIN)/python -m pytest -q -p no:cacheprovider

## test-fast: the quick tier (under a minute): unit, snapshot, end-to-end CLI and the real-tool
## checks that start no server; no live tier, no package index, no crash, fuzz or slow runs
test-fast: $(TEST_STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider -m "not live and not index and not crash and not fuzz and not slow"

## docs: build the documentation (mkdocs.yml, docs/) with --strict into a temporary folder; quiet unless it fails
docs: $(TEST_STAMP)
	@site=$$(mktemp -d) && out=$$(NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir "$$site" 2>&1); \
	status=$$?; rm -rf "$$site"; [ $$status -eq 0 ] || { printf '%s\n' "$$out"; exit $$status; }

## docs-generated: rewrite the generated parts of docs/ (site reference, rule tables, the ESCAPE graph)
docs-generated: venv
	$(BIN)/dlaas-gen schema --format markdown
	$(BIN)/python -c 'from dlaas_gen.commands.docs.pages import refresh_docs; refresh_docs()'

## test-live: only the live tier (real programs run as the pod runs them; needs root and
## `apt-get install -y xrootd-server xrootd-client bubblewrap busybox`, which .ci/run does in CI)
test-live: $(TEST_STAMP) $(RUCIO_VENV)/.installed
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/live

## schema: regenerate sites/site.schema.json
schema: venv
	$(BIN)/dlaas-gen schema

update-snapshots: $(TEST_STAMP)
	$(BIN)/python -m pytest -q --snapshot-update tests/snapshot

## bench: speed goals, each beside a baseline taken in the same run (not part of `make test`)
bench: $(TEST_STAMP)
	$(BIN)/python tests/bench/run_bench.py

## fuzz: the long property-based run (not part of `make test`)
fuzz: $(TEST_STAMP)
	DLAAS_FUZZ_EXAMPLES=10000 $(BIN)/python -m pytest -q -p no:cacheprovider tests/fuzz -s

clean:
	rm -rf $(VENV) $(RUCIO_VENV) build dist *.egg-info .pytest_cache

## lint: ruff with the rules pyproject.toml declares, mypy on dlaas_gen/, import-linter contracts
## (layers, payload/ shipped only, no cycles between packages or modules; see pyproject.toml)
lint: $(LINT_STAMP)
	$(BIN)/ruff check dlaas_gen tests
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
