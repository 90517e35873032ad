#!/usr/bin/env bash
# `make bench`: runs every scripts/bench-*.sh (auth first), each printing a
# markdown table of winnow against the naive baselines on generated input.
set -euo pipefail
cd "$(dirname "$0")/.."
for s in scripts/bench-auth.sh $(ls scripts/bench-*.sh | grep -v -e bench-auth.sh -e bench-lib.sh -e bench-generated.sh); do
  echo "== $s"
  bash "$s"
  echo
done
