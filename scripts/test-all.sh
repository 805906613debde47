#!/usr/bin/env bash
# test-all.sh runs every test of every Go module in the repository: for each
# directory holding a go.mod, `go vet ./...` and `go test -race -count=1 ./...`,
# with GOWORK=off so that each module builds as its users build it (its own
# go.mod and replace directives, not the repository's go.work).
# It needs Go (and git, when present, to list the modules), redis-server for
# the tests of the Redis revocation store (redisstore/, cmd/scopedtoken,
# example/, browser/, and integrations/ for the server of docs/revocation.md; not with
# SCOPEDTOKEN_SKIP_REDIS=1), and chromium, nodejs and npm for browser/'s.
# It installs them when they are missing (scripts/lib/prereqs.sh:
# Debian's packages with apt-get, as root or through sudo -n), or stops at
# once with the command to run. Go fetches every Go dependency itself.
#
# Environment:
#   SCOPEDTOKEN_MODULES  space-separated module directories to run instead of
#                        all of them (relative to the repository root)
#   SCOPEDTOKEN_FUZZTIME how long each fuzz target runs (default 5s; 0 skips)
#   GOFLAGS etc.         passed through to go as usual
#
# To add a step (fuzzing, benchmarks), append a function to EXTRA_STEPS below;
# each is called once, from the repository root, after the module loop.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
export GOWORK=off

if ! command -v go >/dev/null 2>&1; then
	echo "test-all: go is not on PATH" >&2
	exit 1
fi

list_modules() {
	if [[ -n "${SCOPEDTOKEN_MODULES:-}" ]]; then
		printf '%s\n' ${SCOPEDTOKEN_MODULES}
		return
	fi
	local files=""
	if command -v git >/dev/null 2>&1 && git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		# Tracked and not-yet-tracked (but not ignored) go.mod files.
		files=$(git ls-files --cached --others --exclude-standard -- '*go.mod' 'go.mod')
	fi
	if [[ -z "$files" ]]; then
		files=$(find . -name go.mod -not -path '*/vendor/*' -not -path '*/testdata/*' -not -path './.git/*')
	fi
	local f
	for f in $files; do
		dirname "${f#./}"
	done | sort -u
}

# benchmarks runs every benchmark of every module once, so that none rots.
benchmarks() {
	local dir
	for dir in "${modules[@]}"; do
		echo "-- $dir: go test -run '^$' -bench . -benchtime=1x ./..."
		(cd "$root/$dir" && go test -run '^$' -bench . -benchtime=1x ./... >/dev/null) || return 1
	done
}

# fuzz runs every fuzz target of every package of every module (scripts/fuzz.sh
# finds them) for SCOPEDTOKEN_FUZZTIME (default 5s; 0 skips).
fuzz() {
	if [[ "${SCOPEDTOKEN_FUZZTIME:-5s}" == "0" ]]; then
		echo "fuzzing skipped (SCOPEDTOKEN_FUZZTIME=0)"
		return 0
	fi
	SCOPEDTOKEN_FUZZTIME="${SCOPEDTOKEN_FUZZTIME:-5s}" bash "$root/scripts/fuzz.sh"
}

# EXTRA_STEPS holds the names of functions run after the module loop.
EXTRA_STEPS=(benchmarks fuzz)

failed=()
mapfile -t modules < <(list_modules)
if [[ ${#modules[@]} -eq 0 ]]; then
	echo "test-all: no go.mod found under $root" >&2
	exit 1
fi

# Install what the tests run before any of them starts (scripts/lib/prereqs.sh).
# shellcheck source=lib/prereqs.sh
source "$root/scripts/lib/prereqs.sh"
mapfile -t missing < <(missing_prereqs "${modules[@]}")
install_prereqs "${missing[@]+"${missing[@]}"}"
mapfile -t missing < <(missing_prereqs "${modules[@]}")
if [[ ${#missing[@]} -gt 0 ]]; then
	echo "test-all: still missing after apt-get: ${missing[*]}" >&2
	exit 1
fi

echo "test-all: $(go version); ${#modules[@]} module(s): ${modules[*]}"
for dir in "${modules[@]}"; do
	echo
	echo "================================================================"
	echo "== module ${dir} ($(cd "$root/$dir" && go list -m 2>/dev/null || echo '?'))"
	echo "================================================================"
	if ! (cd "$root/$dir" && echo "-- go vet ./..." && go vet ./... && echo "-- go test -race -count=1 ./..." && go test -race -count=1 ./...); then
		failed+=("$dir")
	fi
done

for step in "${EXTRA_STEPS[@]+"${EXTRA_STEPS[@]}"}"; do
	echo
	echo "== step ${step}"
	if ! (cd "$root" && "$step"); then
		failed+=("step:$step")
	fi
done

echo
if [[ ${#failed[@]} -gt 0 ]]; then
	echo "test-all: FAILED: ${failed[*]}"
	exit 1
fi
echo "test-all: all modules passed"
