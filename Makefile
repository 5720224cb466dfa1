# Checkup Edge — the two set-up commands of README.md, and a few helpers.
#
#   make demo   install what is missing, build, start the demo box, print its URL
#   make test   install what is missing, check formatting and lints, run every test
#   make deb    the Debian packages checkup-edge and checkup-central in target/debian/
#               (docs/install.md)
#
# Variables: LISTEN (default 127.0.0.1:8080), DATA_DIR (default data/demo).

CARGO    ?= cargo
LISTEN   ?= 127.0.0.1:8080
DATA_DIR ?= data/demo

.PHONY: demo test deps test-deps build bench lint deb

deps:
	@bash scripts/install-deps.sh

# deps, and the tools only tests and packaging use (schemathesis, cargo-deb)
test-deps:
	@bash scripts/install-deps.sh --test

build: deps
	$(CARGO) build --release --workspace --bins

# The demo box is the debug build (crypto, SQLite and image work optimised even there: see
# Cargo.toml) of the same set `make test` builds, so `make test` beside it compiles no
# binary a second time (one package alone would unify dependency features differently and
# rebuild about a hundred crates; release, everything again). `make build` makes release ones.
demo: deps
	$(CARGO) build --workspace --bins
	./target/debug/checkup-edge demo --listen $(LISTEN) --data-dir $(DATA_DIR)

deb: test-deps
	$(CARGO) build --release -p checkup-edge -p checkup-central --bins
	$(CARGO) deb -p checkup-edge --no-build
	$(CARGO) deb -p checkup-central --no-build

lint: test-deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# schemathesis runs on its own with its output shown: its counts of examples and checks.
test: lint
	$(CARGO) build --workspace --bins
	$(CARGO) test --workspace -- --skip schemathesis_finds_every_answer_as_documented
	$(CARGO) test -p checkup-tests --test schemathesis -- --nocapture

bench: deps
	$(CARGO) bench -p checkup-edge --bench append
	$(CARGO) bench -p checkup-edge --bench replication
	$(CARGO) bench -p checkup-tests --bench failover
	$(CARGO) bench -p checkup-central --bench ingest
