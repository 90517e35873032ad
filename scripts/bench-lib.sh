# Shared helpers for the bench-*.sh scripts (sourced, not run).
# measure NAME CMD... runs CMD once with stdout discarded, records wall time
# (nanosecond clock) and peak RSS (GNU time), and prints a table row.

BENCH_ROWS=()

install_pkg() {
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get install -y -qq "$@" >/dev/null 2>&1 ||
    { $sudo apt-get update -qq >/dev/null 2>&1 && $sudo apt-get install -y -qq "$@" >/dev/null 2>&1; }
}

need_time() {
  [ -x /usr/bin/time ] || install_pkg time || { echo "GNU time (/usr/bin/time) is required" >&2; exit 2; }
}

table_head() {
  BENCH_LINES=$1
  echo "| command | wall s | lines/s | peak RSS MiB |"
  echo "|---|---:|---:|---:|"
}

measure() {
  local name=$1
  shift
  local t0 t1 rss
  t0=$(date +%s%N)
  # stdout goes to a file, not /dev/null: GNU grep stops at the first
  # match when its output is /dev/null.
  /usr/bin/time -f "%M" -o "$OUT/last.rss" "$@" >"$OUT/last.stdout" 2>"$OUT/last.stderr" || true
  t1=$(date +%s%N)
  rss=$(tail -1 "$OUT/last.rss")
  local secs
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
  BENCH_ROWS+=("$name|$secs|$rss")
  awk -v n="$name" -v s="$secs" -v r="$rss" -v l="$BENCH_LINES" \
    'BEGIN { printf "| %s | %.2f | %\047d | %.0f |\n", n, s, (s > 0 ? l / s : 0), r / 1024 }'
}

# table_ratios REF prints, for every measured row, its speed relative to REF
# (how many times faster REF is).
table_ratios() {
  local ref=$1 refs=""
  for row in "${BENCH_ROWS[@]}"; do
    IFS='|' read -r n s _ <<<"$row"
    [ "$n" = "$ref" ] && refs=$s
  done
  [ -n "$refs" ] || return 0
  echo
  echo "time relative to $ref (> 1: slower than winnow):"
  for row in "${BENCH_ROWS[@]}"; do
    IFS='|' read -r n s _ <<<"$row"
    awk -v n="$n" -v s="$s" -v r="$refs" 'BEGIN { printf "  %-45s %6.2fx\n", n, (r > 0 ? s / r : 0) }'
  done
}
