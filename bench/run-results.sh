#!/usr/bin/env bash
# Runs the benchmark suite with a short job (BenchmarkDotNet ShortRun: 3 warm-ups, 3 iterations, 1 launch; ~15 min on the
# 2-core machine, plus a few for MemoryFloor and PacketGap), the memory report and the replay-throughput script, then writes bench/RESULTS.md and
# bench/results-*.png from BenchmarkDotNet's JSON export (bench/DataPlane.Charts).
#   usage: bash bench/run-results.sh            JOB=default / FILTER='*Established*' / REPLAY=0 to change what runs
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
job="${JOB:-short}"
out="$(mktemp -d)"
echo "== working in $out"
dotnet build -c Release -v q -nologo "$here/DataPlane.Benchmarks" >/dev/null
dotnet build -c Release -v q -nologo "$here/DataPlane.Charts" >/dev/null
bench="$here/DataPlane.Benchmarks/bin/Release/net10.0/DataPlane.Benchmarks.dll"

dotnet "$bench" memory | tee "$out/memory.txt"
: >"$out/notes.tsv"
(cd "$here/DataPlane.Benchmarks" && DATAPLANE_BENCH_NOTES="$out/notes.tsv" dotnet "$bench" --filter "${FILTER:-*}" --job "$job" \
   --artifacts "$out/artifacts") >"$out/bench.log" 2>&1 || { tail -n 60 "$out/bench.log"; echo "benchmarks FAILED (log: $out/bench.log)"; exit 1; }
grep -E '^// (control-plane|conntrack|mixed|[0-9]+ live|floor|packet-gaps)' "$out/bench.log" | sort -u || true
# PacketGapBenchmarks' per-phase rows (gap max/p99, time lost, publish latency, GCs) land beside the notes.
if [ -f "$out/packet-gaps.csv" ]; then echo "packet gaps per phase: $out/packet-gaps.csv"; fi
if [ "${REPLAY:-1}" = 1 ]; then bash "$here/replay-throughput.sh" | tee "$out/replay.txt"; fi
dotnet "$here/DataPlane.Charts/bin/Release/net10.0/DataPlane.Charts.dll" "$out/artifacts/results" "$here" \
  "$out/memory.txt" "$out/notes.tsv" "$out/replay.txt" "$job"
