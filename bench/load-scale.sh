#!/usr/bin/env bash
# Load time and peak memory of a cluster load at scale (issue 18: "bounded work on every input"): `dataplane maps`
# (load, expand, allocate, endpoints, DNS zone, compile node-1's maps, print them) on generated manifests of
#   - 10 000 Services with 10 endpoints each,
#   - 60 000 Services with 10 endpoints each (the most under the 65 535 service ports a cluster may have here: the
#     service-port id is 16 bits, as cilium's lb4 reverse-NAT index),
#   - 100 000 Services with 10 endpoints each (refused by that limit, with one line: the time and memory to the refusal),
#   - a ~100 MB manifest (as many Services of 100 endpoints each as fit in 100 MB),
# measured with /usr/bin/time -v (wall clock and maximum resident set size). Each Service is a ClusterIP Service with one
# port and an EndpointSlice of 10 ready endpoints (a dump's shape: no pods to expand, so the 150 000-pod bound on
# controller-made pods does not cap the endpoint count). Run it on a quiet machine: the numbers go in the README.
#
#   bash bench/load-scale.sh [OUT_DIR]      # default OUT_DIR=/tmp/dataplane-load-scale
#   SMALL=1 bash bench/load-scale.sh        # 1 000 / 5 000 Services and a 5 MB manifest: checks the script works
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-/tmp/dataplane-load-scale}"
mkdir -p "$out"
[ -x /usr/bin/time ] || { echo "load-scale: /usr/bin/time is needed (apt-get install time)" >&2; exit 1; }

if [ "${SMALL:-0}" = 1 ]; then sizes=(1000 5000); target_mb=5; else sizes=(10000 60000 100000); target_mb=100; fi

echo "load-scale: building the CLI (Release)" >&2
dotnet build -c Release src/DataPlane.Cli -nologo -v q >&2
dp=(dotnet src/DataPlane.Cli/bin/Release/net10.0/dataplane.dll)

# gen FILE SERVICES [TARGET_BYTES [ENDPOINTS]]: SERVICES Services (or, with TARGET_BYTES, as many as fit) with 10
# (or ENDPOINTS) endpoints each.
gen() {
    python3 - "$@" <<'PY'
import sys
path, count = sys.argv[1], int(sys.argv[2])
target = int(sys.argv[3]) if len(sys.argv) > 3 else 0
per = int(sys.argv[4]) if len(sys.argv) > 4 else 10
nodes = ["node-1", "node-2", "node-3"]
written = 0
with open(path, "w") as f:
    i = 0
    while (target and written < target) or (not target and i < count):
        ns = f"ns-{i % 100}"
        doc = (f"apiVersion: v1\nkind: Service\nmetadata: {{name: svc-{i}, namespace: {ns}}}\n"
               f"spec: {{ports: [{{name: http, port: 80, targetPort: 8080}}]}}\n---\n"
               f"apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
               f"metadata: {{name: svc-{i}-1, namespace: {ns}, labels: {{kubernetes.io/service-name: svc-{i}}}}}\n"
               f"addressType: IPv4\nports: [{{name: http, port: 8080, protocol: TCP}}]\nendpoints:\n")
        for e in range(per):
            n = i * per + e
            doc += f"- {{addresses: [\"10.{64 + (n >> 16)}.{(n >> 8) & 255}.{n & 255}\"], conditions: {{ready: true}}, nodeName: {nodes[n % 3]}}}\n"
        doc += "---\n"
        f.write(doc)
        written += len(doc)
        i += 1
print(i)
PY
}

measure() { # measure LABEL FILE SERVICES [ENDPOINTS-PER-SERVICE]
    local label="$1" file="$2" services="$3" per="${4:-10}" t="$out/$1.time"
    local rc=0
    /usr/bin/time -v "${dp[@]}" maps --cluster "$file" --node node-1 >"$out/$label.maps" 2>"$t" || rc=$?
    local wall rss mb
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$t")
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$t")
    mb=$(du -m "$file" | cut -f1)
    printf '%-14s %9s %11s %9s MB %10s %9s MB  exit %s\n' "$label" "$services" "$((services * per))" "$mb" "$wall" "$((rss / 1024))" "$rc"
    [ "$rc" = 0 ] || echo "  $(head -n 1 "$t")"
}

printf '%-14s %9s %11s %12s %10s %12s\n' CASE SERVICES ENDPOINTS MANIFEST WALL MAX-RSS
for n in "${sizes[@]}"; do
    f="$out/services-$n.yaml"
    [ -s "$f" ] || gen "$f" "$n" >/dev/null
    measure "services-$n" "$f" "$n"
done
f="$out/manifest-${target_mb}mb.yaml"
if [ -s "$f" ] && [ -s "$f.count" ]; then n=$(cat "$f.count"); else n=$(gen "$f" 0 $((target_mb * 1024 * 1024)) 100); echo "$n" >"$f.count"; fi
measure "manifest-${target_mb}mb" "$f" "$n" 100
