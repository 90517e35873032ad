#!/usr/bin/env bash
# Auth-log benchmark: generates a 1M-line auth.log, times `winnow analyze`
# with every auth detector, and times on the same file in the same run the
# naive baselines (wc -l, grep -c, an awk count of failures per IP) and
# fail2ban (fail2ban-regex FILE sshd). Then a flood of 10M distinct source
# addresses checks that memory stays bounded. Prints a markdown table.
#
#   scripts/bench-auth.sh              # 1M lines + 10M-address flood
#   LINES=200000 FLOOD=0 scripts/bench-auth.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-lib.sh

LINES=${LINES:-1000000}
FLOOD=${FLOOD:-10000000}
OUT=${BENCH_OUT:-bench/out}
mkdir -p "$OUT"
need_time
make -s build

F="$OUT/auth-${LINES}.log"
if [ ! -s "$F" ]; then
  bin/winnow generate auth --lines "$LINES" --seed 7 -o "$F"
fi
N=$(wc -l <"$F")
SIZE=$(stat -c %s "$F")
echo "# auth.log benchmark: $N lines, $((SIZE / 1048576)) MiB, $(nproc) cores, $(date -u +%F)"
echo
table_head "$N"
measure "wc -l" wc -l "$F"
measure "grep -c 'Failed password'" grep -c 'Failed password' "$F"
measure "awk failures per IP" awk '/Failed password/ { n[$(NF-3)]++ } END { for (ip in n) c++; print c }' "$F"
measure "winnow analyze (json, every detector)" bin/winnow analyze --format json -q "$F"
measure "winnow analyze --only auth. (json)" bin/winnow analyze --only auth. --format json -q "$F"
measure "winnow analyze (text report)" bin/winnow analyze --color never -q "$F"
if command -v fail2ban-regex >/dev/null 2>&1 || install_pkg fail2ban; then
  measure "fail2ban-regex FILE sshd" fail2ban-regex "$F" sshd
else
  echo "| fail2ban-regex | not installed | | | |"
fi
table_ratios "winnow analyze (json, every detector)"

if [ "$FLOOD" -gt 0 ]; then
  FF="$OUT/auth-flood-${FLOOD}.log"
  if [ ! -s "$FF" ]; then
    bin/winnow generate auth --lines 100000 --flood-ips "$FLOOD" --seed 9 -o "$FF"
  fi
  FN=$(wc -l <"$FF")
  echo
  echo "# flood: $FN lines, $FLOOD distinct source addresses"
  echo
  table_head "$FN"
  measure "winnow analyze (flood)" bin/winnow analyze --format json "$FF"
  echo
  echo "summary of the flood run (stderr):"
  sed 's/^/    /' "$OUT/last.stderr" | head -20
fi
