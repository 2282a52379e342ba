#!/usr/bin/env bash
# Replay end to end by how the CLI is built (issue 21 item 5): the plain JIT build (`dotnet dataplane.dll`, what the
# README's commands run), ReadyToRun (precompiled IL, still the JIT for hot methods: tiered), and NativeAOT (no JIT).
# For each, in the same run: time to the first verdict (a one-frame replay: process start, manifest load, compile,
# one frame, exit) and a whole 1 M-frame replay of the realistic mix against pcaps/cluster, beside a tcpdump copy of the
# same file. Median of RUNS runs each. Take figures with nothing else running.
# usage: bash bench/cli-builds.sh [FRAMES] [RUNS]     (NativeAOT needs clang and zlib1g-dev: installed when missing)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
frames="${1:-1000000}"
runs="${2:-3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
need() { dpkg -s "$1" >/dev/null 2>&1 && return 0; apt-get install -y -qq "$1" >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq "$1" >/dev/null; }; }
need clang; need zlib1g-dev; need tcpdump

echo "cli-builds: $(date -u '+%F %T') UTC, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
dotnet build -c Release -v q -nologo "$root/bench/DataPlane.Benchmarks" >/dev/null
dotnet build -c Release -v q -nologo "$root/src/DataPlane.Cli" >/dev/null
echo "cli-builds: publishing ReadyToRun and NativeAOT (a few minutes)" >&2
dotnet publish "$root/src/DataPlane.Cli" -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o "$work/r2r" -v q -nologo >/dev/null
# NativeAOT reports trim/AOT warnings for the reflection-based JSON calls (14 at the time of writing); they are not
# errors here because this is a measurement build, not the shipped one.
dotnet publish "$root/src/DataPlane.Cli" -c Release -r linux-x64 -p:PublishAot=true -p:TreatWarningsAsErrors=false -o "$work/aot" -v q -nologo >/dev/null
bench="$root/bench/DataPlane.Benchmarks/bin/Release/net10.0/DataPlane.Benchmarks.dll"
dotnet "$bench" gen-pcap "$work/one.pcap" 1 >/dev/null
dotnet "$bench" gen-pcap "$work/big.pcap" "$frames" >/dev/null
cat "$work/big.pcap" >/dev/null

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
time_of() { local t0 t1; sync; t0=$(now); "$@" >/dev/null 2>&1; t1=$(now); awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}'; }

copy=$(for i in $(seq "$runs"); do time_of tcpdump -Z root -r "$work/big.pcap" -w "$work/copy.pcap"; done | median)
printf '%-10s %14s %16s %18s\n' build first-verdict "replay ${frames}" "/ tcpdump copy"
printf '%-10s %14s %15.3fs %18s\n' tcpdump - "$copy" 1.00x
declare -A cmd=([jit]="$(command -v dotnet) $root/src/DataPlane.Cli/bin/Release/net10.0/dataplane.dll" [r2r]="$work/r2r/dataplane" [aot]="$work/aot/dataplane")
for b in jit r2r aot; do
  # shellcheck disable=SC2086
  first=$(for i in $(seq "$runs"); do time_of ${cmd[$b]} replay --cluster "$root/pcaps/cluster" --node node-1 "$work/one.pcap" -o "$work/one-out.pcap" -q; done | median)
  # shellcheck disable=SC2086
  whole=$(for i in $(seq "$runs"); do time_of ${cmd[$b]} replay --cluster "$root/pcaps/cluster" --node node-1 "$work/big.pcap" -o "$work/out.pcap" -q; done | median)
  cmp -s "$work/out.pcap" "$work/out-jit.pcap" 2>/dev/null || [ "$b" = jit ] || { echo "cli-builds: $b's output differs from the JIT build's" >&2; exit 1; }
  [ "$b" = jit ] && cp "$work/out.pcap" "$work/out-jit.pcap"
  printf '%-10s %13.3fs %15.3fs %17.2fx\n' "$b" "$first" "$whole" "$(awk -v a="$whole" -v b="$copy" 'BEGIN {print a / b}')"
done
