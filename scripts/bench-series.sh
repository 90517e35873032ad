#!/usr/bin/env bash
# Time-series benchmark: the outlier ensemble's Go benchmarks (points/s per
# core), the NAB score of `winnow series detect` scored by `winnow eval nab`
# (the corpus in ../shared/data/nab), and the cost of the series family in
# `winnow analyze` on a generated auth.log (with and without series.*).
#
#   scripts/bench-series.sh            # LINES=1000000
#   LINES=200000 scripts/bench-series.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-lib.sh

LINES=${LINES:-1000000}
OUT=${BENCH_OUT:-bench/out}
NAB=${NAB:-../shared/data/nab}
mkdir -p "$OUT"
need_time
make -s build

echo "# outlier ensemble, Go benchmarks ($(nproc) cores, $(date -u +%F))"
echo
go test -run '^$' -bench 'Ensemble|FamilyObserve' -benchtime 1000000x ./internal/detect/outlier | grep -E '^Benchmark'
echo
go test -run 'MemoryPerSeries' -v ./internal/detect/outlier | grep 'bytes per series' | sed 's/^ *memory_test.go:[0-9]*: /    /'

if [ -d "$NAB/data" ]; then
  echo
  echo "# NAB ($NAB)"
  echo
  rm -rf "$OUT/nab-winnow"
  /usr/bin/time -f "series detect: %e s, %M KB" bin/winnow series detect -q "$NAB/data" --out "$OUT/nab-winnow"
  bin/winnow eval nab --data "$NAB/data" --labels "$NAB/labels/combined_windows.json" --results "$OUT/nab-winnow"
  echo
  echo "consensus voting (Skyline's rule):"
  rm -rf "$OUT/nab-consensus"
  bin/winnow series detect -q --mode consensus "$NAB/data" --out "$OUT/nab-consensus"
  bin/winnow eval nab --data "$NAB/data" --labels "$NAB/labels/combined_windows.json" --results "$OUT/nab-consensus"
  echo
  echo "NAB's published windowed Gaussian results, threshold 1.0 (per-file scores reproduced exactly):"
  bin/winnow eval nab --threshold 1.0 --data "$NAB/data" --labels "$NAB/labels/combined_windows.json" --results "$NAB/results/windowedGaussian"
fi

F="$OUT/auth-${LINES}.log"
if [ ! -s "$F" ]; then
  bin/winnow generate auth --lines "$LINES" --seed 7 -o "$F"
fi
N=$(wc -l <"$F")
echo
echo "# winnow analyze on $N generated auth.log lines"
echo
table_head "$N"
measure "analyze, every detector" bin/winnow analyze --format json -q "$F"
measure "analyze, without series.*" bin/winnow analyze --format json -q --disable series. "$F"
measure "analyze, series.* only" bin/winnow analyze --format json -q --only series. "$F"
