#!/usr/bin/env bash
# The whole test suite: machine set-up, every test project, and a dry run of every benchmark (so the suite never rots).
# Ends with the plain totals line "N passed, N failed" (dotnet test prints its own format only).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash .ci/setup-machine.sh || exit 1
results="$(mktemp -d)"
dotnet test DataPlane.sln -nologo --logger "trx" --results-directory "$results"
status=$?
passed=0; failed=0
for f in "$results"/*.trx; do
  [ -f "$f" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$f" | head -n 1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters"); passed=$((passed + ${p:-0}))
  q=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters"); failed=$((failed + ${q:-0}))
done
echo "== benchmarks (BenchmarkDotNet dry job: each benchmark runs once and checks its own result)"
if dotnet build -c Release -v q -nologo bench/DataPlane.Benchmarks >/dev/null &&
   (cd "$results" && dotnet "$root/bench/DataPlane.Benchmarks/bin/Release/net10.0/DataPlane.Benchmarks.dll" --filter '*' --job dry --inProcess >bench.log 2>&1); then
  passed=$((passed + 1)); echo "benchmarks: ok"
else
  failed=$((failed + 1)); echo "benchmarks: FAILED"; tail -n 40 "$results/bench.log" 2>/dev/null
fi
echo "== fuzzing (AFL++ over the packet path and the manifest loader, 35 s each, about 2 minutes with the build; tests/fuzz.sh)"
if bash tests/fuzz.sh 35; then passed=$((passed + 1)); echo "fuzzing: ok"; else failed=$((failed + 1)); echo "fuzzing: FAILED"; fi
[ "$passed" -gt 0 ] || { echo "no test ran"; status=1; }
echo "$passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
