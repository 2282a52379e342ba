#!/usr/bin/env bash
# The main job on bundled data: replay every regression capture in pcaps/cases against the bundled manifests in
# pcaps/cluster as node-1, and print what happened to each flow. Outputs (pcap + JSON verdicts) go to $OUT.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash .ci/setup-machine.sh
dotnet build -c Release -v q -nologo src/DataPlane.Cli >/dev/null
OUT="${OUT:-${TMPDIR:-/tmp}/dataplane-replay}"
mkdir -p "$OUT"
for dir in pcaps/cases/*/; do
  name="$(basename "$dir")"
  echo "== $name: $(head -n 1 "$dir/CASE.md" | sed 's/^# [^:]*: //')"
  dotnet src/DataPlane.Cli/bin/Release/net10.0/dataplane.dll replay \
    --cluster pcaps/cluster --node node-1 "$dir/input.pcap" \
    -o "$OUT/$name.pcap" --verdicts "$OUT/$name.jsonl" "$@"
  echo
done
echo "outputs: $OUT"
