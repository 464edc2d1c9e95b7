#!/usr/bin/env bash
# Regenerates the committed golden results in results/: one run of every
# example scenario (with its report) and the multi-site ExpressRoute
# comparison. tests/golden.rs runs the same commands and compares every file
# byte for byte, so run this after a change that is meant to move a figure,
# and commit the new results with it.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/callflow
for name in $(sed -n 's/^    "\([a-z-]*\)",$/\1/p' tests/golden.rs); do
  "$bin" run "topologies/$name.toml" "scenarios/$name.toml" --out "results/$name" --report --quiet
done
"$bin" compare topologies/multi-site.toml scenarios/multi-site.toml \
  --variant no-expressroute --variant er-500 --variant second-circuit \
  --out results/multi-site-compare --report --quiet
echo "results/ regenerated"
