#!/usr/bin/env bash
# Coverage-guided fuzzing with AFL++ over the two harnesses of tests/DataPlane.Fuzz (SharpFuzz instrumentation):
#   pipeline   frame records through node-1's whole packet path of the bundled cluster (pcaps/cluster)
#   manifests  YAML / JSON through the manifest loader and compiler
# Usage: tests/fuzz.sh [SECONDS-PER-HARNESS] [pipeline|manifests ...]   (default 60 s each, both harnesses)
#        FUZZ_WORK=DIR keeps the build, seeds and AFL++ state there; FUZZ_EXTRA_PCAPS=DIR / FUZZ_EXTRA_MANIFESTS=DIR add seeds
# Installs what it needs only when missing (Debian afl++, the sharpfuzz tool from .config/dotnet-tools.json), replays
# the kept regression findings, seeds from the captures and manifests in the repository, runs each harness and fails
# when AFL++ saved any crash or hang (their inputs are copied to $FUZZ_OUT/<harness>/ and listed).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
seconds="${1:-60}"; shift || true
harnesses=("$@"); [ ${#harnesses[@]} -gt 0 ] || harnesses=(pipeline manifests)
work="${FUZZ_WORK:-$(mktemp -d /tmp/dataplane-fuzz.XXXXXX)}"
keep="${FUZZ_WORK:+yes}"
out="${FUZZ_OUT:-$work/findings}"
mkdir -p "$work" "$out"

if ! command -v afl-fuzz >/dev/null; then
  bash .ci/apt-install.sh afl++ || { echo "fuzz: could not install afl++" >&2; exit 1; }
fi
dotnet tool restore >/dev/null || { echo "fuzz: dotnet tool restore failed" >&2; exit 1; }

# A private Release build, instrumented in place: the packet path (DataPlane.Core), the loader and compiler
# (DataPlane.Kubernetes) and the YAML parser under it. The harness and the I/O project stay uninstrumented.
bin="$work/bin"
rm -rf "$bin"
dotnet build tests/DataPlane.Fuzz -c Release -nologo -v q -o "$bin" >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
fuzz=(dotnet "$bin/DataPlane.Fuzz.dll")
"${fuzz[@]}" check pipeline pcaps/cluster tests/DataPlane.Fuzz/findings/pipeline >/dev/null || { echo "fuzz: a kept pipeline finding fails again:"; "${fuzz[@]}" check pipeline pcaps/cluster tests/DataPlane.Fuzz/findings/pipeline; exit 1; }
"${fuzz[@]}" check manifests pcaps/cluster tests/DataPlane.Fuzz/findings/manifests >/dev/null || { echo "fuzz: a kept manifest finding fails again:"; "${fuzz[@]}" check manifests pcaps/cluster tests/DataPlane.Fuzz/findings/manifests; exit 1; }
# Seeds: the regression cases' captures and whatever other captures the repository holds (16 frames a seed), the DNS
# conversations `seed` adds (DnsSeeds: TCP handshakes, pipelined queries), the bundled cluster, the manifests next to
# the cases, the harnesses' own seeds (fragments among them) and every kept finding.
seeds="$work/seeds"
rm -rf "$seeds"; mkdir -p "$seeds/pipeline" "$seeds/manifests"
# FUZZ_EXTRA_PCAPS: another folder of captures to seed from (e.g. ../shared/pcaps-corpus for a long local run).
mapfile -t pcaps < <(find pcaps ${FUZZ_EXTRA_PCAPS:-} -type f \( -name '*.pcap' -o -name '*.pcapng' \) | sort)
# Before the instrumentation: `seed` runs the data plane's own code (DnsSeeds computes SYN cookies), which aborts
# once instrumented outside AFL++.
"${fuzz[@]}" seed "$seeds/pipeline" "${pcaps[@]}" >"$work/seed.log" 2>&1 || { echo "fuzz: seeding failed:"; cat "$work/seed.log"; exit 1; }
tail -n 1 "$work/seed.log"
for dll in DataPlane.Core.dll DataPlane.Kubernetes.dll YamlDotNet.dll; do
  dotnet sharpfuzz "$bin/$dll" >"$work/instrument.log" 2>&1 || { cat "$work/instrument.log"; exit 1; }
done

find tests/DataPlane.Fuzz/findings/pipeline -type f -size +0 -exec cp {} "$seeds/pipeline/" \;
# The harness's own seeds: fragmented DNS queries and fragments out of order (tests/DataPlane.Fuzz/seeds/make-fragment-seeds.py).
find tests/DataPlane.Fuzz/seeds/pipeline -type f -size +0 -exec cp {} "$seeds/pipeline/" \;
# FUZZ_EXTRA_MANIFESTS: another folder of manifests to seed from (e.g. ../shared/seeds).
find pcaps tests/DataPlane.Fuzz/seeds/manifests tests/DataPlane.Fuzz/findings/manifests ${FUZZ_EXTRA_MANIFESTS:-} -type f \
     \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) -size -64k | while read -r f; do
  cp "$f" "$seeds/manifests/$(echo "$f" | tr '/' '_')"
done

export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
       AFL_FORKSRV_INIT_TMOUT=60000 AFL_CMPLOG_ONLY_NEW=1
status=0
for h in "${harnesses[@]}"; do
  case "$h" in
    pipeline) cmd=("${fuzz[@]}" pipeline "$root/pcaps/cluster") ;;
    manifests) cmd=("${fuzz[@]}" manifests) ;;
    *) echo "fuzz: unknown harness '$h'" >&2; exit 2 ;;
  esac
  o="$work/afl-$h"; rm -rf "$o"
  timeout -k 10 $((seconds + 120)) afl-fuzz -i "$seeds/$h" -o "$o" -t 5000 -m none -V "$seconds" -- "${cmd[@]}" >"$work/afl-$h.log" 2>&1
  rc=$?
  stats="$o/default/fuzzer_stats"
  if [ ! -f "$stats" ]; then
    echo "fuzz $h: afl-fuzz did not start (exit $rc):"; tail -n 25 "$work/afl-$h.log"; status=1; continue
  fi
  get() { sed -n "s/^$1 *: *//p" "$stats" | head -n 1; }
  crashes=$(get saved_crashes); hangs=$(get saved_hangs)
  echo "fuzz $h: $(get execs_done) executions in $(get run_time)s ($(get execs_per_sec)/s), corpus $(get corpus_count) paths, edges $(get edges_found) of $(get total_edges) ($(get bitmap_cvg)), crashes ${crashes:-?}, hangs ${hangs:-?}"
  if [ "${crashes:-1}" != 0 ] || [ "${hangs:-1}" != 0 ]; then
    status=1
    mkdir -p "$out/$h"
    for f in "$o"/default/crashes/id* "$o"/default/hangs/id*; do
      [ -f "$f" ] || continue
      cp "$f" "$out/$h/"
      echo "  finding: $out/$h/$(basename "$f")"
    done
    "${fuzz[@]}" check "$h" "$root/pcaps/cluster" "$out/$h" | head -n 20
  fi
done
# A private work folder goes when nothing was found; with findings it stays for their inputs.
[ -z "$keep" ] && [ "$status" -eq 0 ] && rm -rf "$work"
exit $status
