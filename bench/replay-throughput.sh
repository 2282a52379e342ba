#!/usr/bin/env bash
# Replay throughput (issue 5 §6): generates a 1 M-frame capture of the realistic traffic mix against pcaps/cluster
# (bench/DataPlane.Benchmarks gen-pcap: TCP/UDP flows to the ClusterIPs and NodePorts there, replies included), then,
# in the same run, times a plain copy of it with `tcpdump -r in -w out` (the floor for file I/O) and
# `dataplane replay` on it, and prints the three figures: replay's own pipeline and whole-run frames/s, and the copy's.
# Target: replay end to end within 2x of the tcpdump copy.   usage: bash bench/replay-throughput.sh [FRAMES]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
frames="${1:-1000000}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Installed only when absent ("dpkg -s" alone is not enough: a removed package keeps its config-files status).
command -v tcpdump >/dev/null 2>&1 || apt-get install -y -qq tcpdump >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq tcpdump >/dev/null; }
dotnet build -c Release -v q -nologo "$root/bench/DataPlane.Benchmarks" >/dev/null
dotnet build -c Release -v q -nologo "$root/src/DataPlane.Cli" >/dev/null
bench="$root/bench/DataPlane.Benchmarks/bin/Release/net10.0/DataPlane.Benchmarks.dll"
cli="$root/src/DataPlane.Cli/bin/Release/net10.0/dataplane.dll"

dotnet "$bench" gen-pcap "$work/in.pcap" "$frames" >/dev/null
size=$(stat -c %s "$work/in.pcap")
now() { date +%s.%N; }

# Warm the page cache so neither side pays for the first read.
cat "$work/in.pcap" >/dev/null
# Flush dirty pages before each timed step, so neither side pays for the other's writeback (365 MB each).
sync; t0=$(now); tcpdump -Z root -r "$work/in.pcap" -w "$work/copy.pcap" 2>/dev/null; t1=$(now)
sync; t2=$(now); "$(command -v dotnet)" "$cli" replay --cluster "$root/pcaps/cluster" --node node-1 "$work/in.pcap" -o "$work/out.pcap" -q >"$work/replay.txt"; t3=$(now)

awk -v f="$frames" -v s="$size" -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" 'BEGIN {
  cp = b - a; rp = d - c;
  printf "capture: %d frames, %.1f MB (generated traffic mix against pcaps/cluster, node-1)\n", f, s / 1e6;
  printf "tcpdump -r in -w out: %.3f s, %.0f frames/s\n", cp, f / cp;
  printf "dataplane replay (process wall time, incl. .NET start-up and cluster compile): %.3f s, %.0f frames/s\n", rp, f / rp;
  printf "replay / tcpdump copy: %.2fx (target <= 2x)\n", rp / cp }'
grep -E '^(throughput|verdicts)' "$work/replay.txt" | sed 's/^/replay reports: /'
