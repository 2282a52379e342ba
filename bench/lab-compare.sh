#!/usr/bin/env bash
# The live lab against the kernel (issue 20 item 4): the same lab of pcaps/examples/bench.yaml brought up four ways —
# DataPlane on its TAP with offloads (checksum + TSO, the default) and without, and the node's own kernel with
# kube-proxy's iptables and nftables rule shapes — and `lab bench` run through each, one after the other, for ROUNDS
# rounds, so every figure of a table comes from the same run. Take the figures with nothing else running (2-core VM).
# usage: bash bench/lab-compare.sh [SECONDS] [ROUNDS]     (root; iperf3, python3, iproute2, iptables, nftables)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-5}"
rounds="${2:-2}"
for tool in iperf3 ip iptables nft python3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "lab-compare: $tool is missing (bash .ci/setup-tests.sh installs it)" >&2; exit 1; }
done
dotnet build -c Release -v q -nologo "$root/src/DataPlane.Cli" >/dev/null
dp="$root/src/DataPlane.Cli/bin/Release/net10.0/dataplane"
cluster="$root/pcaps/examples/bench.yaml"
variants=("dataplane offload=on:--datapath dataplane --offload on"
          "dataplane offload=off:--datapath dataplane --offload off"
          "kernel iptables:--datapath iptables"
          "kernel nftables:--datapath nftables")
trap '"$dp" lab down cmp >/dev/null 2>&1 || true' EXIT
echo "lab-compare: $(date -u '+%F %T') UTC, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), ${seconds} s each, ${rounds} rounds"
for r in $(seq 1 "$rounds"); do
  for v in "${variants[@]}"; do
    label="${v%%:*}"; args="${v#*:}"
    "$dp" lab down cmp >/dev/null 2>&1 || true
    # shellcheck disable=SC2086
    "$dp" lab up --cluster "$cluster" --name cmp $args >/dev/null 2>&1
    line=$("$dp" lab bench cmp --seconds "$seconds" 2>/dev/null | tail -1)
    echo "round $r  $label  ${line#*: }  (load $(cut -d' ' -f1 /proc/loadavg))"
  done
done
"$dp" lab down cmp >/dev/null 2>&1 || true
