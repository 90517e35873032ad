#!/usr/bin/env bash
# DNS benchmark: generates a large capture of a network's DNS (with a
# tunnel, a DGA host and a dead beacon embedded) with `winnow generate dns`,
# as a pcap and as the same traffic in a Zeek dns.log, then times
#   - the pcap → DNS-event decoder alone (Go benchmark, one core),
#   - `winnow analyze` end to end on each (wall time, peak RSS),
#   - tshark's own DNS field export of the capture, when tshark is installed,
# and prints a markdown table.
#
#   scripts/bench-dns.sh                 # 1M queries (≈2.4M packets)
#   QUERIES=200000 scripts/bench-dns.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-lib.sh

QUERIES=${QUERIES:-1000000}
OUT=${BENCH_OUT:-bench/out}
mkdir -p "$OUT"
need_time
make -s build

P="$OUT/dns-${QUERIES}.pcap"
Z="$OUT/dns-${QUERIES}.log"
if [ ! -s "$P" ]; then
  bin/winnow generate dns --queries "$QUERIES" --seed 7 --duration 4h --clients 200 -o "$P" 2>"$OUT/gen.txt"
  bin/winnow generate dns --queries "$QUERIES" --seed 7 --duration 4h --clients 200 --zeek -o "$Z" 2>>"$OUT/gen.txt"
fi
PKTS=$(grep -o '([0-9]* packets)' "$OUT/gen.txt" | head -1 | tr -dc '0-9')
NQ=$(grep -o 'wrote [0-9]* queries' "$OUT/gen.txt" | head -1 | tr -dc '0-9')
echo "# DNS benchmark: $NQ queries, $PKTS packets, pcap $(($(stat -c %s "$P") / 1048576)) MiB, Zeek log $(($(stat -c %s "$Z") / 1048576)) MiB, $(nproc) cores, $(date -u +%F)"
echo
echo "## decoder alone (go test -bench BenchmarkDecode ./internal/parse/dnspcap/, GOMAXPROCS=1)"
echo
GOMAXPROCS=1 go test -run '^$' -bench 'BenchmarkDecode$' -benchtime 5x -count 1 ./internal/parse/dnspcap/ | grep Benchmark | sed 's/^/    /'
echo
echo "## end to end (rates per packet for the pcap, per line for the Zeek log)"
echo
table_head "$PKTS"
measure "winnow analyze dns.pcap (json, all detectors)" bin/winnow analyze --format json -q "$P"
measure "winnow analyze dns.pcap --workers 1" bin/winnow analyze --format json -q --workers 1 "$P"
if command -v tshark >/dev/null 2>&1; then
  measure "tshark -r dns.pcap -Y dns -T fields (baseline)" tshark -r "$P" -Y dns -T fields -e frame.time_epoch -e ip.src -e dns.qry.name -e dns.qry.type -e dns.flags.rcode
else
  echo "| tshark | not installed | | | |"
fi
table_ratios "winnow analyze dns.pcap (json, all detectors)"
echo
BENCH_ROWS=()
table_head "$(grep -vc '^#' "$Z")"
measure "winnow analyze dns.log (Zeek TSV)" bin/winnow analyze --format json -q "$Z"
echo
echo "findings on the pcap (text report, top 5):"
bin/winnow analyze --color never --top 5 --samples 0 -q "$P" | grep -E '^#|^      [a-z]' | cut -c1-160 | sed 's/^/    /'
