#!/usr/bin/env bash
# Runs every fuzz target of every package of every module in the repository,
# one after another, each for ${SCOPEDTOKEN_FUZZTIME:-10s}. A target is a
# `func FuzzXxx(f *testing.F)` in a _test.go file; it is found where it is
# written, beside the code it fuzzes, and run from its package's directory
# with GOWORK=off, so that it builds with its own module's go.mod. Seeds live
# in the code (f.Add) and under the package's testdata/fuzz/<FuzzName>/; a
# failing input is written there by go test and should be committed with its
# fix as a regression case.
#
#   scripts/fuzz.sh           fuzz every target
#   scripts/fuzz.sh --list    print the targets, one "dir target" a line
#
# Environment: SCOPEDTOKEN_FUZZTIME (default 10s), SCOPEDTOKEN_FUZZMINIMIZETIME
# (default 10s), SCOPEDTOKEN_FUZZ_MATCH (an extended regular expression: only
# the "dir target" lines it matches).
set -euo pipefail
cd "$(dirname "$0")/.."
export GOWORK=off
fuzztime="${SCOPEDTOKEN_FUZZTIME:-10s}"

# test_files lists the repository's _test.go files: tracked and
# not-yet-tracked (but not ignored) ones in a git checkout, else all of them.
test_files() {
	if command -v git >/dev/null 2>&1 && git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git ls-files --cached --others --exclude-standard -- '*_test.go'
	else
		find . -name '*_test.go' -not -path './.git/*' | sed 's|^\./||'
	fi
}

# targets prints "dir target" for every fuzz target, sorted.
targets() {
	local f
	test_files | grep -v -e '/testdata/' -e '^testdata/' -e '/vendor/' | sort | while read -r f; do
		[[ -f "$f" ]] || continue
		sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(f \*testing\.F).*/\1/p' "$f" | while read -r t; do
			printf '%s %s\n' "$(dirname "$f")" "$t"
		done
	done | sort -u
}

mapfile -t found < <(targets | grep -E -- "${SCOPEDTOKEN_FUZZ_MATCH:-.}")
if [[ ${#found[@]} -eq 0 ]]; then
	echo "fuzz: no fuzz targets found" >&2
	exit 1
fi
if [[ "${1:-}" == "--list" ]]; then
	printf '%s\n' "${found[@]}"
	exit 0
fi

# inputs counts the failing inputs go test has written for a target.
inputs() {
	if [[ -d "$1/testdata/fuzz/$2" ]]; then
		find "$1/testdata/fuzz/$2" -type f | wc -l
	else
		echo 0
	fi
}

echo "fuzz: ${#found[@]} targets, ${fuzztime} each"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for line in "${found[@]}"; do
	dir=${line% *}
	target=${line#* }
	for try in 1 2 3; do
		echo "== ${dir}: ${target} (${fuzztime})"
		before=$(inputs "$dir" "$target")
		if (cd "$dir" && go test -run '^$' -fuzz "^${target}\$" -fuzztime "${fuzztime}" \
			-fuzzminimizetime "${SCOPEDTOKEN_FUZZMINIMIZETIME:-10s}" .) 2>&1 | tee "$log"; [[ ${PIPESTATUS[0]} -eq 0 ]]; then
			break
		fi
		# Go 1.26's fuzzing coordinator can fail a target at the end of
		# -fuzztime with "context deadline exceeded" when a worker is slow to
		# stop on a loaded machine (go.dev/issue/75804, fixed in Go 1.27). No
		# input is written then; a real finding always writes one. Only that
		# case is run again, at most twice.
		if [[ $(inputs "$dir" "$target") -ne $before ]] || ! grep -q 'context deadline exceeded' "$log" || [[ $try -eq 3 ]]; then
			echo "fuzz: ${dir}: ${target} failed" >&2
			exit 1
		fi
		echo "fuzz: ${target}: the coordinator's deadline race (no input written); running it again"
	done
done
