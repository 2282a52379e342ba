#!/usr/bin/env bash
# The whole test suite: machine set-up (.ci/setup-tests.sh), the format check, every test project (and that it left no
# scratch folder behind), a dry run of every benchmark (so the suite never rots) and a short fuzzing run.
# Ends with the plain totals line "N passed, N failed" (dotnet test prints its own format only).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash .ci/setup-tests.sh || exit 1
results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT
# Layout check first (no build, no network, ~15 s): .editorconfig's whitespace rules over every .cs file. The style
# and analyzer rules are checked by the build itself (EnforceCodeStyleInBuild; errors in every project). Fix with the command shown.
echo "== format (dotnet format whitespace --verify-no-changes; fix with: dotnet format whitespace . --folder)"
if dotnet format whitespace . --folder --verify-no-changes --exclude "**/bin/**" "**/obj/**" >"$results/format.log" 2>&1; then
  format_ok=1; echo "format: ok"
else
  format_ok=0; echo "format: FAILED"; head -n 40 "$results/format.log"
fi
# The tests write their scratch folders (dp-*) under a private TMPDIR, so what a run leaves behind is visible, and
# is this run's and nobody else's: every test deletes what it made (tests/DataPlane.Tests/Infrastructure/TempDir.cs).
scratch="$results/tmp"
mkdir -p "$scratch"
TMPDIR="$scratch" dotnet test DataPlane.sln -nologo --logger "trx" --results-directory "$results"
status=$?
passed=0; failed=0
if [ "$format_ok" -eq 1 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
echo "== temporary folders (a test run leaves no dp-* or dataplane-* folder behind)"
leftovers="$(find "$scratch" -mindepth 1 -maxdepth 1 \( -name 'dp-*' -o -name 'dataplane-*' \) -printf '%f\n' | sort)"
if [ -z "$leftovers" ]; then
  passed=$((passed + 1)); echo "temporary folders: ok"
else
  failed=$((failed + 1)); echo "temporary folders: FAILED, left behind:"; head -n 20 <<<"$leftovers"
fi
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
