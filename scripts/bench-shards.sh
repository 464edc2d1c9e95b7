#!/usr/bin/env bash
# Sharded-run benchmark: one run split into N shards, run one after another
# on this machine, then merged, beside the same run on a single machine.
#
# Usage: scripts/bench-shards.sh TOPOLOGY SCENARIO N [RUN OPTIONS...]
#   e.g. scripts/bench-shards.sh topologies/multi-site.toml scenarios/multi-site.toml 8 --replications 8
#
# Prints, per shard, its wall time and peak resident memory (the kernel's
# high-water mark, from /usr/bin/time -v, or VmHWM sampled from /proc when
# /usr/bin/time is missing), then the merge's, then the single-machine
# run's, and checks that the merged directory equals the single-machine one
# byte for byte. RUN OPTIONS go to every `callflow run` (--replications,
# --variant, --seed, --jobs). The binary is $CALLFLOW, else
# target/release/callflow (built if missing). Work files go to $BENCH_DIR,
# else a temporary directory that is removed afterwards.
set -euo pipefail

if [ $# -lt 3 ]; then
  sed -n '4,6p' "$0" >&2
  exit 2
fi
topology=$1 scenario=$2 shards=$3
shift 3
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${CALLFLOW:-$root/target/release/callflow}
if [ ! -x "$bin" ]; then
  (cd "$root" && cargo build --release --quiet)
fi
if [ -n "${BENCH_DIR:-}" ]; then
  work=$BENCH_DIR
  mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi

# measure NAME CMD...: runs CMD, appends "NAME seconds peak_kib" to $work/times.
measure() {
  local name=$1
  shift
  local start end peak
  start=$(date +%s.%N)
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -v -o "$work/time.txt" "$@" >/dev/null
    peak=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
  else
    "$@" >/dev/null &
    local pid=$! hwm=0 v
    while kill -0 "$pid" 2>/dev/null; do
      v=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
      [ -n "$v" ] && hwm=$v
      sleep 0.05
    done
    wait "$pid"
    peak=$hwm
  fi
  end=$(date +%s.%N)
  awk -v n="$name" -v s="$start" -v e="$end" -v p="$peak" 'BEGIN { print n, e - s, p }' >>"$work/times"
}

: >"$work/times"
parts=()
for ((i = 0; i < shards; i++)); do
  measure "shard-$i/$shards" "$bin" run "$topology" "$scenario" "$@" \
    --shard "$i/$shards" --quiet --out "$work/part-$i"
  parts+=("$work/part-$i")
done
measure merge "$bin" merge "${parts[@]}" --quiet --out "$work/merged"
measure single-machine "$bin" run "$topology" "$scenario" "$@" --quiet --out "$work/single"

if diff -r "$work/single" "$work/merged" >/dev/null; then
  same="merged results equal the single-machine results byte for byte"
else
  same="MERGED RESULTS DIFFER from the single-machine results"
fi

part_bytes=$(du -cb "$work"/part-*/partial.json | awk 'END {print $1}')
echo "callflow $("$bin" --version | awk '{print $2}'): $topology $scenario $*, $shards shards, $(nproc) cores"
awk '
  { printf "  %-20s %9.2f s  %9.1f MiB peak\n", $1, $2, $3 / 1024
    if ($1 ~ /^shard-/) { total += $2; if ($2 > slowest) slowest = $2; if ($3 > peak) peak = $3 } }
  END { printf "  %-20s %9.2f s  (slowest shard %.2f s)  %9.1f MiB largest peak\n", "shards, summed", total, slowest, peak / 1024 }
' "$work/times"
echo "  partial.json, all shards: $((part_bytes / 1024)) KiB"
echo "  $same"
[ "$same" != "${same#merged results equal}" ]
