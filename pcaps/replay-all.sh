#!/usr/bin/env bash
# The main job on bundled data: replay every regression capture in pcaps/cases against the bundled manifests in
# pcaps/cluster as node-1, and print what happened to each flow. Outputs (pcap + JSON verdicts) go to $OUT.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# Replaying needs the .NET 10 SDK only (no Debian package): checked, nothing installed.
bash .ci/setup-replay.sh
# The first build restores and compiles four projects (a few minutes on a small machine): show its progress rather than
# building in silence. Later runs only check that nothing changed.
echo "== build: dotnet build -c Release src/DataPlane.Cli"
dotnet build -c Release -v minimal -nologo src/DataPlane.Cli
echo
OUT="${OUT:-${TMPDIR:-/tmp}/dataplane-replay}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
for dir in pcaps/cases/*/; do
  name="$(basename "$dir")"
  echo "== $name: $(head -n 1 "$dir/CASE.md" | sed 's/^# [^:]*: //')"
  # A case's own options (a small conntrack table, a manifest applied mid-capture...) are in its args file, with
  # paths relative to the case folder, so it runs from there.
  extra=()
  [[ -f "$dir/args" ]] && mapfile -t extra < "$dir/args"
  (cd "$dir" && dotnet "$root/src/DataPlane.Cli/bin/Release/net10.0/dataplane.dll" replay \
    --cluster "$root/pcaps/cluster" --node node-1 input.pcap \
    -o "$OUT/$name.pcap" --verdicts "$OUT/$name.jsonl" "${extra[@]}" "$@")
  echo
done
echo "outputs: $OUT"
