# The few targets the README names. Every target installs what it needs first,
# so `make synth` and `make test` work on a fresh clone (Python 3.11, Node 20, Java 17, Maven 3.8).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
FLINK_VENV := .venv-flink
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_CLI_TELEMETRY := true

.PHONY: setup setup-flink jar synth diagram test test-app test-flink lint demo demo-msf bench clean

# The Flink job's dependency jar (Iceberg Flink runtime + AWS bundle + Hadoop conf), from flink_app/pom.xml.
# Maven's local repository (~/.m2) is reused, so a second build needs no network. Built to a temporary name
# and moved into place, so a failed or interrupted build leaves no half-written jar behind.
MVN ?= mvn
JAR := flink_app/lib/unilake-flink-deps.jar
JAR_SOURCES := flink_app/pom.xml $(shell find flink_app/src -name '*.java')

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# PyFlink 1.20 pins pyarrow/numpy versions that pyiceberg cannot share: it gets its own virtualenv.
setup-flink: $(FLINK_VENV)/.installed

$(FLINK_VENV)/.installed: flink_app/requirements-dev.txt flink_app/requirements.txt
	$(PYTHON) -m venv $(FLINK_VENV)
	$(FLINK_VENV)/bin/pip install --quiet --upgrade pip
	$(FLINK_VENV)/bin/pip install --quiet -r flink_app/requirements-dev.txt
	touch $@

jar: $(JAR)

$(JAR): $(JAR_SOURCES)
	@command -v $(MVN) >/dev/null || { echo "unilake: $(JAR) needs Maven: install Maven 3.8+ (Debian: apt-get install maven) and Java 11+, then run make again" >&2; exit 1; }
	$(MVN) -q -B -f flink_app/pom.xml package
	mkdir -p $(@D)
	rm -f $@.tmp
	cp flink_app/target/unilake-flink-deps.jar $@.tmp
	mv $@.tmp $@

# The main job: synthesize every environment (all cdk-nag packs run inside synth).
synth: setup $(JAR)
	rm -rf cdk.out
	@# The CLI's closing "Supply a stack id () to display its template." is meant for apps with top-level
	@# stacks; ours are inside one Stage per environment, so the list is empty: drop that line, keep the rest.
	set -o pipefail; npx cdk synth --quiet 2>&1 | { grep -v '^Supply a stack id' || true; }
	@echo "synthesized: $$(ls cdk.out/assembly-*/ -d | tr '\n' ' ')"

# The README's architecture diagram, from the synthesized dev environment (tests/ops/test_ops_diagram.py
# fails when it is stale).
diagram: setup $(JAR)
	rm -rf cdk.out.diagram
	set -o pipefail; npx cdk synth --quiet -c environments=dev -o cdk.out.diagram 2>&1 | { grep -v '^Supply a stack id' || true; }
	$(VENV)/bin/python -m ops diagram --env dev --cdk-out cdk.out.diagram --write README.md

# Every test and check.
test: test-app test-flink

test-app: setup lint $(JAR)
	$(VENV)/bin/pytest

test-flink: setup-flink $(JAR)
	$(FLINK_VENV)/bin/pytest tests/flink_app

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

demo: setup-flink
	$(FLINK_VENV)/bin/python flink_app/demo.py

# The msf profile (what Managed Flink runs) on a local moto Glue + S3, with the real Iceberg connector.
demo-msf: setup setup-flink $(JAR)
	$(FLINK_VENV)/bin/python flink_app/demo_msf.py

bench: setup setup-flink
	$(VENV)/bin/python bench/synth_bench.py
	$(VENV)/bin/python bench/catalog_scale_bench.py
	$(FLINK_VENV)/bin/python bench/pipeline_bench.py
	$(FLINK_VENV)/bin/python bench/stream_reader_bench.py

clean:
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache
