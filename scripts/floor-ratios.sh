#!/usr/bin/env bash
# Runs the floor comparisons of BENCHMARKS.md: BenchmarkFloor at -cpu 1 and 2,
# one process per round, and prints each handler's median and the ratios to
# the floors with the harness subtracted from both sides.
#
#   scripts/floor-ratios.sh [rounds] [test binary ...]
#
# With no binary it builds bench/ from the working tree. Several binaries
# (built from different commits with `go test -c -o NAME.test` in bench/) run
# alternately, round by round, so that a busy neighbour on a shared machine
# lands on every one of them rather than on one side of a comparison. The raw
# lines stay in $SCOPEDTOKEN_BENCH_OUT (default: a new temporary directory)
# for benchstat. $SCOPEDTOKEN_BENCHTIME (default 20000x) is each sample's
# -test.benchtime: longer samples average a busy neighbour out.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-16}"
shift || true
bins=("$@")
out="${SCOPEDTOKEN_BENCH_OUT:-$(mktemp -d)}"
mkdir -p "$out"
if [ ${#bins[@]} -eq 0 ]; then
	(cd bench && go test -c -o "$out/floor.test" .)
	bins=("$out/floor.test")
fi
for b in "${bins[@]}"; do
	: >"$out/$(basename "$b").txt"
done
for _ in $(seq "$rounds"); do
	for b in "${bins[@]}"; do
		"$b" -test.run '^$' -test.bench '^BenchmarkFloor$' -test.benchmem -test.benchtime "${SCOPEDTOKEN_BENCHTIME:-20000x}" -test.cpu 1,2 |
			grep '^BenchmarkFloor' >>"$out/$(basename "$b").txt"
	done
done

# median NAME FILE: the median ns/op of the lines of benchmark NAME.
median() {
	awk -v n="$1" '$1 == n { print $3 }' "$2" | sort -g |
		awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# perround KIND CPU FILE: the median over the rounds of each round's ratio
# (harness subtracted), which a round slowed down as a whole does not move.
perround() {
	paste <(awk -v n="BenchmarkFloor/harness$2" '$1 == n { print $3 }' "$3") \
		<(awk -v n="BenchmarkFloor/scopedtoken_$1$2" '$1 == n { print $3 }' "$3") \
		<(awk -v n="BenchmarkFloor/floor_$1$2" '$1 == n { print $3 }' "$3") |
		awk '{ print ($2 - $1) / ($3 - $1) }' | sort -g |
		awk '{ v[NR] = $1 } END { printf "%.2fx", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "rounds: $rounds; raw results: $out"
for b in "${bins[@]}"; do
	f="$out/$(basename "$b").txt"
	echo "== $(basename "$b")"
	for cpu in "" "-2"; do
		h=$(median "BenchmarkFloor/harness$cpu" "$f")
		for kind in cached uncached; do
			ours=$(median "BenchmarkFloor/scopedtoken_$kind$cpu" "$f")
			floor=$(median "BenchmarkFloor/floor_$kind$cpu" "$f")
			pr=$(perround "$kind" "$cpu" "$f")
			awk -v k="$kind" -v c="${cpu:--1}" -v h="$h" -v o="$ours" -v f="$floor" -v pr="$pr" 'BEGIN {
				printf "%-8s -cpu %s: scopedtoken %7.1f ns, floor %7.1f ns, harness %4.1f ns: %.2fx (per-round median %s)\n", k, (c == "-2" ? 2 : 1), o, f, h, (o - h) / (f - h), pr
			}'
		done
	done
done
