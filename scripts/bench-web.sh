#!/usr/bin/env bash
# Times winnow on a generated 1M-line web access log against the baselines
# a person would reach for, on the same file in the same run:
#   wc -l, an awk count of 404s per client IP, GoAccess (if installable),
#   winnow analyze with every detector of every family, and with the web
#   family only (every web detector: the figure the targets are about).
# Prints a markdown table (wall time, lines/s, peak RSS, ratio to winnow).
#
#   scripts/bench-web.sh [LINES]        (default 1000000)
#
# Needs GNU time (/usr/bin/time, Debian package "time") and optionally
# goaccess (Debian package "goaccess"); both are installed with apt-get when
# missing and possible, otherwise the script says what it skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

LINES=${1:-1000000}
OUT=bench/out
LOG=$OUT/web-$LINES.log
mkdir -p "$OUT"

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
apt_install() { # package
  command -v apt-get >/dev/null 2>&1 || return 1
  $SUDO apt-get install -y -qq "$1" >/dev/null 2>&1 || { $SUDO apt-get update -qq >/dev/null 2>&1 && $SUDO apt-get install -y -qq "$1" >/dev/null 2>&1; }
}

if [ ! -x /usr/bin/time ]; then
  echo "== installing GNU time" >&2
  apt_install time || { echo "GNU time (/usr/bin/time) is required" >&2; exit 1; }
fi
HAVE_GOACCESS=1
if ! command -v goaccess >/dev/null 2>&1; then
  echo "== installing goaccess" >&2
  apt_install goaccess || HAVE_GOACCESS=0
fi

echo "== building" >&2
make -s build >&2

echo "== generating $LINES lines" >&2
bin/winnow generate web --lines "$LINES" -o "$LOG" 2>&1 | sed 's/^/   /' >&2
N=$(wc -l < "$LOG")

# run NAME CMD...: times CMD with its output discarded; records wall
# seconds and peak RSS (KiB).
declare -A WALL RSS
ORDER=()
run() {
  local name=$1; shift
  local tf; tf=$(mktemp)
  /usr/bin/time -v -o "$tf" "$@" > /dev/null 2>/dev/null || { echo "   $name failed (exit $?)" >&2; }
  WALL[$name]=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$tf")
  RSS[$name]=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tf")
  ORDER+=("$name")
  rm -f "$tf"
  echo "   $name: ${WALL[$name]} s, $((RSS[$name] / 1024)) MiB" >&2
}

echo "== timing on $N lines ($(du -h "$LOG" | cut -f1)), $(nproc) cores" >&2
run "wc -l" wc -l "$LOG"
run "awk 404s per IP" awk '$9 == 404 { n[$1]++ } END { for (ip in n) print n[ip], ip }' "$LOG"
if [ "$HAVE_GOACCESS" = 1 ]; then
  run "goaccess" goaccess "$LOG" --log-format=COMBINED -o /dev/null
else
  echo "   goaccess: not installed and not installable here; skipped" >&2
fi
run "winnow analyze (all detectors)" bin/winnow analyze --format json -q "$LOG"
run "winnow analyze --only web." bin/winnow analyze --only web. --format json -q "$LOG"

REF="winnow analyze --only web."
echo
echo "Generated access log: $N lines ($(du -h "$LOG" | cut -f1)), $(nproc) cores, $(go version | cut -d' ' -f3)."
echo
echo "| command | wall (s) | lines/s | peak RSS (MiB) | wall vs. \`winnow analyze --only web.\` |"
echo "|---|---:|---:|---:|---:|"
for name in "${ORDER[@]}"; do
  awk -v n="$name" -v w="${WALL[$name]}" -v r="${RSS[$name]}" -v lines="$N" -v ref="${WALL[$REF]}" 'BEGIN {
    lps = (w > 0) ? lines / w : 0
    printf "| `%s` | %.2f | %.0f | %.0f | %.2f× |\n", n, w, lps, r / 1024, (ref > 0) ? w / ref : 0
  }'
done
if [ "$HAVE_GOACCESS" != 1 ]; then
  echo
  echo "GoAccess could not be installed here; its row is missing."
fi
