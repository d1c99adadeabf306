# baseimage-deno: see README.md. `make help` lists the targets.
NAME ?= baseimage-deno
VERSION ?= 0.1.0
# The image users get; tests here build on the offline Debian base instead
# when this one cannot be pulled (no registry reachable).
BASE_IMAGE ?= ubuntu:24.04
# docker or podman; empty = whichever answers (image/engine.sh decides).
ENGINE ?=
export NAME VERSION BASE_IMAGE ENGINE

DENO := ./node_modules/.bin/deno
# package.json only pins the runtime for npm; without this, `deno task`
# tries to install its npm dependencies for every platform (no network).
export DENO_NO_PACKAGE_JSON := 1
DENO_SOURCES := $(shell find lib init setuser install_clean scripts -name '*.ts' 2>/dev/null)

.PHONY: help setup compile test test-unit test-ns test-container lint lint-sh fmt check \
	image demo base-image tag_latest release bench clean distclean

help:
	@echo "make demo        build the image and boot a demo container (does all set-up)"
	@echo "make test        run every test: unit, PID-namespace and container tests"
	@echo "make compile     build dist/my_init, dist/setuser, dist/install_clean"
	@echo "make image       build the image \$$(NAME):\$$(VERSION) (BASE_IMAGE, ENGINE)"
	@echo "make base-image  make the offline Debian base (debootstrap, cached)"
	@echo "make lint        shellcheck, deno fmt --check, deno lint, deno check"
	@echo "make bench       benchmarks against tini, dumb-init, catatonit"
	@echo "make tag_latest / make release"

node_modules/.bin/deno: package.json package-lock.json
	npm install --no-audit --no-fund
	@touch $@

setup: node_modules/.bin/deno

dist/.stamp: node_modules/.bin/deno $(DENO_SOURCES)
	$(DENO) run -A --no-lock scripts/build.ts
	@touch $@

compile: dist/.stamp

test-unit: setup
	$(DENO) task test:unit

test-ns: compile
	bash scripts/host_deps.sh
	$(DENO) test -A --no-lock tests/ns/

test-container: image
	bash tests/container/run.sh

test: lint test-unit test-ns test-container

lint: lint-sh setup
	$(DENO) fmt --check
	$(DENO) lint
	$(DENO) task check

# Every shell script, found by name and by shebang (scripts/shell_files.sh),
# so that new scripts are checked without being listed here. -x follows the
# `# shellcheck source=` directives (paths from the repository's root).
lint-sh:
	@command -v shellcheck >/dev/null || { echo "lint-sh: installing shellcheck" >&2; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends shellcheck; }
	files=$$(bash scripts/shell_files.sh) && printf '%s\n' "$$files" | xargs -d '\n' shellcheck -x

fmt: setup
	$(DENO) fmt

check: setup
	$(DENO) task check

image: compile
	bash image/engine.sh ensure
	bash image/build.sh

base-image:
	bash image/base_image.sh

demo: image
	bash image/demo.sh

tag_latest:
	bash image/engine.sh run tag $(NAME):$(VERSION) $(NAME):latest

release: test tag_latest
	bash image/engine.sh run push $(NAME):$(VERSION)
	bash image/engine.sh run push $(NAME):latest

bench: compile
	bash bench/run.sh

# Keeps build/cache (the debootstrapped base, ~30 s to remake); distclean not.
clean:
	rm -rf dist build/context build/context-minimal build/logs

distclean: clean
	rm -rf build node_modules
