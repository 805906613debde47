#!/usr/bin/env bash
# Runs every fuzz target of the root package, one after another, each for
# ${SCOPEDTOKEN_FUZZTIME:-10s}. Seeds live in the code (f.Add) and under
# testdata/fuzz/<FuzzName>/; a failing input is written there by go test and
# should be committed with its fix as a regression case.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${SCOPEDTOKEN_FUZZTIME:-10s}"
targets=(
	FuzzVerifyJWS
	FuzzClaims
	FuzzParseAudEntry
	FuzzPathMatching
	FuzzJSONScanner
	FuzzObjectNames
	FuzzMiddleware
	FuzzWebSocketProtocol
)
for target in "${targets[@]}"; do
	echo "== ${target} (${fuzztime})"
	go test -run '^$' -fuzz "^${target}\$" -fuzztime "${fuzztime}" -fuzzminimizetime "${SCOPEDTOKEN_FUZZMINIMIZETIME:-10s}" .
done
