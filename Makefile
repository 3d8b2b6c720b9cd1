# Conventional entry points. Setup happens inside the targets that need it, so each works
# on a fresh machine with only Rust, Python 3 and apt available.

SHELL := /bin/bash
CARGO ?= cargo

.PHONY: test demo build bench fmt lint check-tools clean-local

## make test: formatting, clippy (warnings denied), every test on both backends (moto
## started on 127.0.0.1 for the aws adapters), the infrastructure linters, and a
## schemathesis run against the served OpenAPI spec.
test: check-tools
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	scripts/with-moto.sh $(CARGO) test --workspace
	scripts/lint-infra.sh
	scripts/schemathesis.sh

## make demo: the main job: the real invoice workflow, end to end, on the embedded store.
demo:
	$(CARGO) run --release -p p2p-cli -- demo

## make build: the Lambda artifacts with AWS SAM (cargo-lambda + zig), offline.
build:
	scripts/sam-build.sh

## make bench: the criterion benches and the Lambda start-up/size script.
bench:
	$(CARGO) bench --workspace -- --warm-up-time 1 --measurement-time 3
	bench/lambda-startup.sh

# System tools the tests need: xmllint (pain.001 files are validated against the ISO XSD).
check-tools:
	@command -v xmllint >/dev/null || { \
	  echo "installing libxml2-utils (xmllint)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libxml2-utils >/dev/null; }
	@command -v python3 >/dev/null || { echo "python3 is required (moto, sam, linters)"; exit 1; }

clean-local:
	rm -rf .p2p
