#!/usr/bin/env bash
# `make bench`: the performance goals of winnow, measured on the two
# independent 1M-line inputs in ../shared/bench (auth.log and an nginx
# access log with many distinct sources, accounts and paths, attacks mixed
# in). For each file it times, alternating tools, RUNS times (median kept):
#   wc -l, grep -c, a naive awk count per IP, lnav with one SQL query,
#   fail2ban-regex with one filter (each when installed), and
#   winnow analyze --format json (every detector) on 2 cores, on 1 core
#   (GOMAXPROCS=1) and with --archive.
# and prints a markdown table with lines/s, peak RSS and the ratio to winnow.
# With COMPARE=<git rev> it also builds that revision and checks that the
# findings (rule, entity, start, severity) on both files are unchanged.
#
#   scripts/bench.sh                    # RUNS=3
#   RUNS=1 COMPARE=HEAD~1 scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-lib.sh

RUNS=${RUNS:-3}
OUT=${BENCH_OUT:-bench/out}
BENCH_DIR=${BENCH_DIR:-../shared/bench}
mkdir -p "$OUT"
need_time
make -s build
BIN=bin/winnow

for f in auth access; do
  if [ ! -s "$OUT/$f-1m.log" ]; then
    [ -s "$BENCH_DIR/$f-1m.log.gz" ] || { echo "missing $BENCH_DIR/$f-1m.log.gz" >&2; exit 2; }
    gzip -dc "$BENCH_DIR/$f-1m.log.gz" >"$OUT/$f-1m.log"
  fi
done
have() { command -v "$1" >/dev/null 2>&1; }

# run_tools FILE: the tool list for one file, one "name<TAB>command" per line.
tools_auth() {
  local f=$1
  printf '%s\t%s\n' \
    "wc -l" "wc -l $f" \
    "grep -c 'Failed password'" "grep -c 'Failed password' $f" \
    "awk failures per IP" "awk '/Failed password/ { n[\$(NF-3)]++ } END { for (ip in n) c++; print c }' $f"
  have lnav && printf '%s\t%s\n' "lnav (one SQL query)" \
    "lnav -n -c \";SELECT log_hostname, count(*) FROM syslog_log WHERE log_body LIKE '%Failed password%' GROUP BY 1\" $f"
  have fail2ban-regex && printf '%s\t%s\n' "fail2ban-regex (sshd filter)" "fail2ban-regex $f sshd"
  winnow_tools "$f"
}
tools_access() {
  local f=$1
  printf '%s\t%s\n' \
    "wc -l" "wc -l $f" \
    "grep -c '\" 404 '" "grep -c '\" 404 ' $f" \
    "awk requests per IP" "awk '{ n[\$1]++ } END { for (ip in n) c++; print c }' $f"
  have lnav && printf '%s\t%s\n' "lnav (one SQL query)" \
    "lnav -n -c \";SELECT c_ip, count(*) FROM access_log GROUP BY c_ip\" $f"
  have fail2ban-regex && printf '%s\t%s\n' "fail2ban-regex (apache-badbots filter)" "fail2ban-regex $f apache-badbots"
  winnow_tools "$f"
}
winnow_tools() {
  local f=$1
  printf '%s\t%s\n' \
    "winnow analyze (json, every detector)" "$BIN analyze --format json -q $f" \
    "winnow analyze, GOMAXPROCS=1" "env GOMAXPROCS=1 $BIN analyze --format json -q $f" \
    "winnow analyze --archive" "sh -c 'rm -rf $OUT/archive && exec $BIN analyze --format json -q --archive $OUT/archive $f'"
}

have lnav || echo "(lnav not installed: apt-get install lnav)" >&2
have fail2ban-regex || echo "(fail2ban-regex not installed: apt-get install fail2ban)" >&2

for kind in auth access; do
  F="$OUT/$kind-1m.log"
  N=$(wc -l <"$F")
  mapfile -t TOOLS < <(tools_$kind "$F")
  declare -A T=() R=()
  for run in $(seq "$RUNS"); do
    for t in "${TOOLS[@]}"; do
      name=${t%%$'\t'*}
      cmd=${t#*$'\t'}
      t0=$(date +%s%N)
      /usr/bin/time -f "%M" -o "$OUT/last.rss" sh -c "$cmd" >"$OUT/last.stdout" 2>"$OUT/last.stderr" || true
      t1=$(date +%s%N)
      T[$name]+="$(( (t1 - t0) / 1000 )) "
      R[$name]+="$(tail -1 "$OUT/last.rss") "
    done
  done
  median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
  ref=$(echo "${T[winnow analyze (json, every detector)]}" | median)
  echo "# $kind-1m.log: $N lines, $(( $(stat -c %s "$F") / 1048576 )) MiB, $(nproc) cores, median of $RUNS runs, $(date -u +%F)"
  echo
  echo "| tool | lines/s | peak RSS MiB | time vs winnow |"
  echo "|---|---:|---:|---:|"
  for t in "${TOOLS[@]}"; do
    name=${t%%$'\t'*}
    us=$(echo "${T[$name]}" | median)
    rss=$(echo "${R[$name]}" | median)
    awk -v n="$name" -v us="$us" -v rss="$rss" -v l="$N" -v ref="$ref" \
      'BEGIN { printf "| %s | %\047d | %.0f | %.2f× |\n", n, (us > 0 ? l / (us / 1e6) : 0), rss / 1024, (ref > 0 ? us / ref : 0) }'
  done
  echo
  unset T R
done

if [ -n "${COMPARE:-}" ]; then
  WT="$OUT/compare-src"
  rm -rf "$WT"
  git worktree add -q --detach "$WT" "$COMPARE"
  (cd "$WT" && CGO_ENABLED=0 go build -trimpath -o ../winnow-compare ./cmd/winnow)
  git worktree remove --force "$WT"
  key() { python3 -c '
import json, sys
for line in sys.stdin:
    d = json.loads(line)
    w = d.get("winnow", {})
    ent = w.get("entity", {})
    print(d.get("rule", {}).get("name"), ent.get("type"), ent.get("value"), d.get("event", {}).get("start"), d.get("event", {}).get("severity"))
' | sort; }
  status=0
  for kind in auth access; do
    "$BIN" analyze --format json -q --min-severity info "$OUT/$kind-1m.log" | key >"$OUT/$kind.new.keys" || true
    "$OUT/winnow-compare" analyze --format json -q --min-severity info "$OUT/$kind-1m.log" | key >"$OUT/$kind.old.keys" || true
    if cmp -s "$OUT/$kind.old.keys" "$OUT/$kind.new.keys"; then
      echo "findings on $kind-1m.log: unchanged against $COMPARE ($(wc -l <"$OUT/$kind.new.keys"))"
    else
      echo "findings on $kind-1m.log CHANGED against $COMPARE:"
      diff "$OUT/$kind.old.keys" "$OUT/$kind.new.keys" | head -20
      status=1
    fi
  done
  exit $status
fi
