#!/usr/bin/env bash
# Captures made by a real Linux kernel acting as a kube-proxy node, for `dataplane verify` (issue 19, "Tests").
#
#   bash tests/kernel-captures/make.sh OUTDIR [iptables] [nftables]      (root; both modes when none is named)
#
# For each mode it builds, in network namespaces named kc<pid>-*:
#   node    the emulated node-1: eth0 192.168.0.2/24 towards the outside, one routed veth per pod (node side
#           10.244.1.1/32 on each, like a CNI's host-side veth with the pod gateway address), IP forwarding on, and
#           kube-proxy's rules for the cluster below, written the way kube-proxy writes them (iptables-restore input
#           as pkg/proxy/iptables/proxier.go syncProxyRules emits it, or the `nft -f` transaction of
#           pkg/proxy/nftables/proxier.go, chain names hashed the same way);
#   ext     an off-cluster client, 203.0.113.7, which is also the node's default router 192.168.0.1 (it routes the
#           ClusterIPs through the node);
#   client  a pod on the node, 10.244.1.5;
#   be1-3   backend pods 10.244.1.10-12, each running traffic.py's TCP (8080) and UDP (5353) "clientip" server.
# Services (namespace default; the manifests written beside the capture say exactly the same):
#   echo         ClusterIP 10.96.1.10   http 80/TCP->8080, dns 53/UDP->5353; endpoints .10 .11 .12
#   web-cluster  NodePort  10.96.1.20   http 80/TCP->8080 nodePort 30080, dns 53/UDP->5353 nodePort 30053;
#                externalTrafficPolicy Cluster (masqueraded); endpoints .10 .11
#   web-local    NodePort  10.96.1.30   http 80/TCP->8080 nodePort 30090, dns 53/UDP->5353 nodePort 30054;
#                externalTrafficPolicy Local (client address kept); endpoints .11 .12
#   empty        NodePort  10.96.1.40   http 80/TCP nodePort 30099, dns 53/UDP nodePort 30055; no endpoints (REJECT)
# Then it captures inside node with `tcpdump -i any` (-y LINUX_SLL2 for iptables, -y LINUX_SLL for nftables),
# runs the traffic (each connection from its own fixed client port; only the kernel's random choices differ from run
# to run), stops tcpdump and deletes every namespace it made (also on error or interrupt).
#
# Output, per mode: OUTDIR/kernel-<mode>/{node.pcap, cluster/{nodes,kube-proxy,services}.yaml, rules.txt,
# traffic.txt, README.md}. traffic.txt is what each client got back: the source address the backend saw.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ $# -ge 1 ] || { echo "usage: $0 OUTDIR [iptables] [nftables]" >&2; exit 2; }
invocation="bash tests/kernel-captures/make.sh $*"
outroot="$1"; shift
modes=("$@"); [ ${#modes[@]} -gt 0 ] || modes=(iptables nftables)
for m in "${modes[@]}"; do
  case "$m" in iptables|nftables) ;; *) echo "$0: unknown mode $m (iptables or nftables)" >&2; exit 2 ;; esac
done
[ "$(id -u)" -eq 0 ] || { echo "$0: needs root (network namespaces, iptables, nft)" >&2; exit 2; }
for t in ip iptables-restore iptables-save nft tcpdump ethtool xxd base32 sha256sum; do
  command -v "$t" >/dev/null || { echo "$0: $t is missing (bash .ci/apt-install.sh iproute2 iptables nftables tcpdump ethtool xxd)" >&2; exit 2; }
done
python=/usr/bin/python3
[ -x "$python" ] || { echo "$0: $python is missing" >&2; exit 2; }
mkdir -p "$outroot"
outroot="$(cd "$outroot" && pwd)"

# Unique prefix: live tests use dpf*, the lab uses lab*; ours carry this shell's pid.
P="kc$$"
NODE="$P-node" EXT="$P-ext" CLIENT="$P-client"
BACKENDS=("$P-be1" "$P-be2" "$P-be3")
BACKEND_IPS=(10.244.1.10 10.244.1.11 10.244.1.12)
NODE_IP=192.168.0.2 EXT_IP=203.0.113.7 CLIENT_IP=10.244.1.5 GW=10.244.1.1
CLUSTER_CIDR=10.244.0.0/16 SERVICE_CIDR=10.96.0.0/12

made=()      # namespaces made so far, deleted by cleanup
capture_pid=

cleanup() {
  local ns pid
  if [ -n "$capture_pid" ]; then kill -INT "$capture_pid" 2>/dev/null || true; wait "$capture_pid" 2>/dev/null || true; capture_pid=; fi
  for ns in "${made[@]}"; do
    # Only processes inside our own namespaces: the servers, and whatever a failed step left there.
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
  done
  for ns in "${made[@]}"; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break
      sleep 0.1
    done
    ip netns del "$ns" 2>/dev/null || true
  done
  made=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# kube-proxy's chain-name hashes. iptables: base32(sha256(servicePortName + protocol [+ endpoint]))[:16]
# (portProtoHash / servicePortEndpointChainName in pkg/proxy/iptables/proxier.go); nftables: the first 8 characters of
# base32(sha256(name)) in front of the name itself (hashAndTruncate in pkg/proxy/nftables/proxier.go).
hash_b32() { printf '%s' "$1" | sha256sum | cut -d' ' -f1 | xxd -r -p | base32 | cut -c1-"$2"; }

# The cluster, one line per service port: service clusterIP eTP portName proto port targetPort nodePort endpoints
SERVICE_PORTS=(
  "echo        10.96.1.10 -       http tcp 80 8080 -     10.244.1.10,10.244.1.11,10.244.1.12"
  "echo        10.96.1.10 -       dns  udp 53 5353 -     10.244.1.10,10.244.1.11,10.244.1.12"
  "web-cluster 10.96.1.20 Cluster http tcp 80 8080 30080 10.244.1.10,10.244.1.11"
  "web-cluster 10.96.1.20 Cluster dns  udp 53 5353 30053 10.244.1.10,10.244.1.11"
  "web-local   10.96.1.30 Local   http tcp 80 8080 30090 10.244.1.11,10.244.1.12"
  "web-local   10.96.1.30 Local   dns  udp 53 5353 30054 10.244.1.11,10.244.1.12"
  "empty       10.96.1.40 Cluster http tcp 80 8080 30099 -"
  "empty       10.96.1.40 Cluster dns  udp 53 5353 30055 -"
)

# ---------------------------------------------------------------------------------------------------------------------
# Manifests: what DataPlane loads (--cluster DIR --node node-1), the same cluster the rules implement.

write_manifests() { # DIR MODE
  local dir="$1" mode="$2"
  mkdir -p "$dir"
  cat >"$dir/nodes.yaml" <<EOF
# The node the capture was taken on: node-1, whose data plane is the kernel's under kube-proxy ($mode mode).
apiVersion: v1
kind: Node
metadata:
  name: node-1
spec:
  podCIDR: 10.244.1.0/24
status:
  addresses:
  - type: InternalIP
    address: $NODE_IP
  - type: Hostname
    address: node-1
EOF
  cat >"$dir/kube-proxy.yaml" <<EOF
# kube-proxy's configuration on node-1: the local-traffic detector is the cluster CIDR (pods are not masqueraded to
# ClusterIPs, and pod traffic to an externalTrafficPolicy: Local NodePort is short-circuited to all endpoints).
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: $mode
clusterCIDR: $CLUSTER_CIDR
EOF
  local svc prev="" f="$dir/services.yaml"
  : >"$f"
  local -a names=()
  for line in "${SERVICE_PORTS[@]}"; do
    read -r svc _ <<<"$line"
    [ "$svc" = "$prev" ] || names+=("$svc")
    prev="$svc"
  done
  local first=1
  for svc in "${names[@]}"; do
    local cip="" etp="" type="ClusterIP" eps="" ports="" sliceports=""
    for line in "${SERVICE_PORTS[@]}"; do
      local s c e pn pr p tp np ep
      read -r s c e pn pr p tp np ep <<<"$line"
      [ "$s" = "$svc" ] || continue
      cip="$c" etp="$e" eps="$ep"
      local PR; PR="$(tr a-z A-Z <<<"$pr")"
      ports+="  - name: $pn"$'\n'"    port: $p"$'\n'"    protocol: $PR"$'\n'"    targetPort: $tp"$'\n'
      if [ "$np" != "-" ]; then type=NodePort; ports+="    nodePort: $np"$'\n'; fi
      sliceports+="- name: $pn"$'\n'"  port: $tp"$'\n'"  protocol: $PR"$'\n'
    done
    [ $first -eq 1 ] || echo "---" >>"$f"
    first=0
    {
      echo "apiVersion: v1"
      echo "kind: Service"
      echo "metadata:"
      echo "  name: $svc"
      echo "  namespace: default"
      echo "spec:"
      echo "  type: $type"
      echo "  clusterIP: $cip"
      [ "$type" = NodePort ] && echo "  externalTrafficPolicy: $etp"
      echo "  selector:"
      echo "    app: $svc"
      echo "  ports:"
      printf '%s' "$ports"
      echo "---"
      echo "apiVersion: discovery.k8s.io/v1"
      echo "kind: EndpointSlice"
      echo "metadata:"
      echo "  name: $svc-kc01"
      echo "  namespace: default"
      echo "  labels:"
      echo "    kubernetes.io/service-name: $svc"
      echo "addressType: IPv4"
      echo "ports:"
      printf '%s' "$sliceports"
      if [ "$eps" = "-" ]; then
        echo "endpoints: []"
      else
        echo "endpoints:"
        local a
        for a in ${eps//,/ }; do
          echo "- addresses: [\"$a\"]"
          echo "  conditions: {ready: true, serving: true, terminating: false}"
          echo "  nodeName: node-1"
        done
      fi
    } >>"$f"
  done
}

# ---------------------------------------------------------------------------------------------------------------------
# kube-proxy iptables mode: the iptables-restore input syncProxyRules writes (pkg/proxy/iptables/proxier.go; the same
# shapes as TestOverallIPTablesRules in proxier_test.go). Masquerade is --random-fully, as kube-proxy adds it when the
# kernel supports it.

iptables_rules() {
  local -a nat_chains=() nat_rules=() filter_rules=()
  local line s cip etp pn pr port tport np eps
  for line in "${SERVICE_PORTS[@]}"; do
    read -r s cip etp pn pr port tport np eps <<<"$line"
    local sp="default/$s:$pn"
    local h; h="$(hash_b32 "$sp$pr" 16)"
    local svc="KUBE-SVC-$h" ext="KUBE-EXT-$h" svl="KUBE-SVL-$h"
    if [ "$eps" = "-" ]; then
      # No endpoints: REJECT in filter, for the ClusterIP in KUBE-SERVICES and the NodePort in KUBE-EXTERNAL-SERVICES.
      filter_rules+=("-A KUBE-SERVICES -m comment --comment \"$sp has no endpoints\" -m $pr -p $pr -d $cip --dport $port -j REJECT")
      [ "$np" = "-" ] || filter_rules+=("-A KUBE-EXTERNAL-SERVICES -m comment --comment \"$sp has no endpoints\" -m addrtype --dst-type LOCAL -m $pr -p $pr --dport $np -j REJECT")
      continue
    fi
    local -a ips=(${eps//,/ })
    nat_chains+=("$svc")
    nat_rules+=("-A KUBE-SERVICES -m comment --comment \"$sp cluster IP\" -m $pr -p $pr -d $cip --dport $port -j $svc")
    nat_rules+=("-A $svc -m comment --comment \"$sp cluster IP\" -m $pr -p $pr -d $cip --dport $port ! -s $CLUSTER_CIDR -j KUBE-MARK-MASQ")
    local -A sep=()
    local i n=${#ips[@]} ip
    for ip in "${ips[@]}"; do
      sep[$ip]="KUBE-SEP-$(hash_b32 "$sp$pr$ip:$tport" 16)"
      nat_chains+=("${sep[$ip]}")
      nat_rules+=("-A ${sep[$ip]} -m comment --comment \"$sp\" -s $ip -j KUBE-MARK-MASQ")
      nat_rules+=("-A ${sep[$ip]} -m comment --comment \"$sp\" -m $pr -p $pr -j DNAT --to-destination $ip:$tport")
    done
    # Endpoint i of n is taken with probability 1/(n-i), the last one unconditionally (computeProbability: %0.10f).
    lb_rules() { # CHAIN IP...
      local chain="$1"; shift
      local k=0 m=$# a
      for a in "$@"; do
        if [ $((m - k)) -gt 1 ]; then
          nat_rules+=("-A $chain -m comment --comment \"$sp -> $a:$tport\" -m statistic --mode random --probability $(awk -v n=$((m - k)) 'BEGIN { printf "%.10f", 1 / n }') -j ${sep[$a]}")
        else
          nat_rules+=("-A $chain -m comment --comment \"$sp -> $a:$tport\" -j ${sep[$a]}")
        fi
        k=$((k + 1))
      done
    }
    lb_rules "$svc" "${ips[@]}"
    if [ "$np" != "-" ]; then
      nat_chains+=("$ext")
      nat_rules+=("-A KUBE-NODEPORTS -m comment --comment \"$sp\" -m $pr -p $pr --dport $np -j $ext")
      if [ "$etp" = Local ]; then
        # externalTrafficPolicy: Local. Pods are short-circuited to all endpoints, node-local sources masqueraded,
        # everything else goes to the local endpoints only (KUBE-SVL), keeping the client address.
        nat_rules+=("-A $ext -m comment --comment \"pod traffic for $sp external destinations\" -s $CLUSTER_CIDR -j $svc")
        nat_rules+=("-A $ext -m comment --comment \"masquerade LOCAL traffic for $sp external destinations\" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ")
        nat_rules+=("-A $ext -m comment --comment \"route LOCAL traffic for $sp external destinations\" -m addrtype --src-type LOCAL -j $svc")
        nat_rules+=("-A $ext -j $svl")
        nat_chains+=("$svl")
        lb_rules "$svl" "${ips[@]}"   # every endpoint of web-local is on node-1
      else
        nat_rules+=("-A $ext -m comment --comment \"masquerade traffic for $sp external destinations\" -j KUBE-MARK-MASQ")
        nat_rules+=("-A $ext -j $svc")
      fi
    fi
    unset sep
  done
  nat_rules+=("-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be the last rule in this chain\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS")

  echo "*filter"
  local c
  for c in KUBE-EXTERNAL-SERVICES KUBE-FORWARD KUBE-NODEPORTS KUBE-PROXY-CANARY KUBE-PROXY-FIREWALL KUBE-SERVICES; do echo ":$c - [0:0]"; done
  # The jumps from the built-in chains (iptablesJumpChains in proxier.go).
  echo '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL'
  echo '-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS'
  echo '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES'
  echo '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL'
  echo '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD'
  echo '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES'
  echo '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES'
  echo '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL'
  echo '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES'
  printf '%s\n' "${filter_rules[@]}"
  echo '-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP'
  echo '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT'
  echo '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT'
  echo "COMMIT"
  echo "*nat"
  for c in KUBE-MARK-MASQ KUBE-NODEPORTS KUBE-POSTROUTING KUBE-PROXY-CANARY KUBE-SERVICES $(printf '%s\n' "${nat_chains[@]}" | sort -u); do echo ":$c - [0:0]"; done
  echo '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES'
  echo '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES'
  echo '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING'
  echo '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN'
  echo '-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000'
  echo '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully'
  echo '-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000'
  printf '%s\n' "${nat_rules[@]}"
  echo "COMMIT"
}

# ---------------------------------------------------------------------------------------------------------------------
# kube-proxy nftables mode: the transaction syncProxyRules sends to `nft -f` (pkg/proxy/nftables/proxier.go; baseRules
# and the per-service chains of TestOverallNFTablesRules in proxier_test.go).

nft_rules() {
  local T="ip kube-proxy"
  cat <<EOF
add table $T { comment "rules for kube-proxy" ; }
add set $T cluster-ips { type ipv4_addr ; comment "Active ClusterIPs" ; }
add set $T nodeport-ips { type ipv4_addr ; comment "IPs that accept NodePort traffic" ; }
add map $T firewall-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "destinations that are subject to LoadBalancerSourceRanges" ; }
add map $T no-endpoint-nodeports { type inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to service nodeports with no endpoints" ; }
add map $T no-endpoint-services { type ipv4_addr . inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to services with no endpoints" ; }
add map $T service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }
add map $T service-nodeports { type inet_proto . inet_service : verdict ; comment "NodePort traffic" ; }
add chain $T cluster-ips-check
add chain $T filter-prerouting-pre-dnat { type filter hook prerouting priority -110 ; }
add chain $T filter-output-pre-dnat { type filter hook output priority -110 ; }
add chain $T filter-forward { type filter hook forward priority 0 ; }
add chain $T filter-input { type filter hook input priority 0 ; }
add chain $T filter-output { type filter hook output priority 0 ; }
add chain $T firewall-check
add chain $T mark-for-masquerade
add chain $T masquerading
add chain $T nat-output { type nat hook output priority -100 ; }
add chain $T nat-postrouting { type nat hook postrouting priority 100 ; }
add chain $T nat-prerouting { type nat hook prerouting priority -100 ; }
add chain $T nodeport-endpoints-check
add chain $T reject-chain { comment "helper for @no-endpoint-services / @no-endpoint-nodeports" ; }
add chain $T services
add chain $T service-endpoints-check
add rule $T cluster-ips-check ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"
add rule $T cluster-ips-check ip daddr { $SERVICE_CIDR } drop comment "Drop traffic to unallocated ClusterIPs"
add rule $T filter-prerouting-pre-dnat ct state new jump firewall-check
add rule $T filter-forward ct state new jump service-endpoints-check
add rule $T filter-forward ct state new jump cluster-ips-check
add rule $T filter-input ct state new jump nodeport-endpoints-check
add rule $T filter-input ct state new jump service-endpoints-check
add rule $T filter-output ct state new jump service-endpoints-check
add rule $T filter-output-pre-dnat ct state new jump firewall-check
add rule $T filter-output ct state new jump cluster-ips-check
add rule $T firewall-check ip daddr . meta l4proto . th dport vmap @firewall-ips
add rule $T mark-for-masquerade mark set mark or 0x4000
add rule $T masquerading mark and 0x4000 == 0 return
add rule $T masquerading mark set mark xor 0x4000
add rule $T masquerading masquerade fully-random
add rule $T nat-output jump services
add rule $T nat-postrouting jump masquerading
add rule $T nat-prerouting jump services
add rule $T nodeport-endpoints-check ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports
add rule $T reject-chain reject
add rule $T services ip daddr . meta l4proto . th dport vmap @service-ips
add rule $T services ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports
add element $T nodeport-ips { $NODE_IP }
add rule $T service-endpoints-check ip daddr . meta l4proto . th dport vmap @no-endpoint-services
EOF
  local line s cip etp pn pr port tport np eps
  for line in "${SERVICE_PORTS[@]}"; do
    read -r s cip etp pn pr port tport np eps <<<"$line"
    local sp="default/$s:$pn" base="default/$s/$pr/$pn"
    local hb; hb="$(hash_b32 "$base" 8)-$base"
    local svc="service-$hb" ext="external-$hb" loc="local-$hb"
    echo "# $sp"
    echo "add element $T cluster-ips { $cip }"
    if [ "$eps" = "-" ]; then
      echo "add element $T no-endpoint-services { $cip . $pr . $port comment \"$sp\" : goto reject-chain }"
      [ "$np" = "-" ] || echo "add element $T no-endpoint-nodeports { $pr . $np comment \"$sp\" : goto reject-chain }"
      continue
    fi
    local -a ips=(${eps//,/ })
    local -A epc=()
    local ip
    for ip in "${ips[@]}"; do
      local eb="$base"__"$ip/$tport"
      epc[$ip]="endpoint-$(hash_b32 "$eb" 8)-$eb"
      echo "add chain $T ${epc[$ip]}"
      echo "add rule $T ${epc[$ip]} ip saddr $ip jump mark-for-masquerade"
      echo "add rule $T ${epc[$ip]} meta l4proto $pr dnat to $ip:$tport"
    done
    vmap() { local k=0 a out=""; for a in "$@"; do out+="${out:+ , }$k : goto ${epc[$a]}"; k=$((k + 1)); done; echo "numgen random mod $# vmap { $out }"; }
    echo "add chain $T $svc"
    echo "add rule $T $svc ip daddr $cip ip saddr != $CLUSTER_CIDR jump mark-for-masquerade"
    echo "add rule $T $svc $(vmap "${ips[@]}")"
    echo "add element $T service-ips { $cip . $pr . $port : goto $svc }"
    if [ "$np" != "-" ]; then
      if [ "$etp" = Local ]; then
        echo "add chain $T $loc"
        echo "add rule $T $loc $(vmap "${ips[@]}")"   # every endpoint of web-local is on node-1
        echo "add chain $T $ext"
        echo "add rule $T $ext ip saddr $CLUSTER_CIDR goto $svc comment \"short-circuit pod traffic\""
        echo "add rule $T $ext fib saddr type local jump mark-for-masquerade comment \"masquerade local traffic\""
        echo "add rule $T $ext fib saddr type local goto $svc comment \"short-circuit local traffic\""
        echo "add rule $T $ext goto $loc"
      else
        echo "add chain $T $ext"
        echo "add rule $T $ext jump mark-for-masquerade"
        echo "add rule $T $ext goto $svc"
      fi
      echo "add element $T service-nodeports { $pr . $np : goto $ext }"
    fi
    unset epc
  done
}

# ---------------------------------------------------------------------------------------------------------------------
# The namespaces.

netns() { ip netns add "$1"; made+=("$1"); ip -n "$1" link set lo up; ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1; }

# pod NAMESPACE IP NODE-SIDE-IFNAME MAC-SUFFIX: a routed veth, node side 10.244.1.1/32 (the pod gateway), pod side eth0.
pod() {
  local ns="$1" ip="$2" ifn="$3" mac="$4"
  netns "$ns"
  ip -n "$NODE" link add "$ifn" address "02:00:00:00:01:$mac" type veth peer name eth0 netns "$ns" address "02:00:00:00:02:$mac"
  ip -n "$NODE" addr add "$GW/32" dev "$ifn"
  ip -n "$NODE" link set "$ifn" up
  ip -n "$NODE" route add "$ip/32" dev "$ifn" src "$GW"
  # A /32 and a default route through the gateway (as Calico and Cilium give pods): every packet, pod to pod too,
  # goes through the node, so the node sees both sides of each connection.
  ip -n "$ns" addr add "$ip/32" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" route add "$GW" dev eth0 scope link
  ip -n "$ns" route add default via "$GW" dev eth0
  # No TCP timestamps: smaller frames, fewer bytes that differ between runs.
  ip netns exec "$ns" sysctl -qw net.ipv4.tcp_timestamps=0
  full_checksums "$ns" eth0
  full_checksums "$NODE" "$ifn"
}

# A veth offloads the TCP/UDP checksum (CHECKSUM_PARTIAL): the sender's packets would be captured with only the
# pseudo-header sum in the checksum field, as if every one were corrupt. With TX checksumming off, every packet carries
# its full checksum, as it does on a real wire, and the node's NAT updates it incrementally.
full_checksums() { ip netns exec "$1" ethtool -K "$2" tx off >/dev/null; }

build_topology() {
  netns "$NODE"
  # icmp_ratelimit 0: the REJECTs of the no-endpoint service come in a burst to one client; the kernel's per-destination
  # ICMP rate limit would otherwise swallow some of them and leave the capture with unanswered SYNs.
  ip netns exec "$NODE" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
    net.ipv4.icmp_ratelimit=0
  netns "$EXT"
  ip -n "$NODE" link add eth0 address 02:00:00:00:00:02 type veth peer name eth0 netns "$EXT" address 02:00:00:00:00:07
  ip -n "$NODE" addr add "$NODE_IP/24" dev eth0
  ip -n "$NODE" link set eth0 up
  # ext is also the node's upstream router, 192.168.0.1: a node has a default route, and a packet to a ClusterIP that
  # kube-proxy does not translate (the REJECTed ones) is routed by it before the filter table sees it.
  ip -n "$NODE" route add default via 192.168.0.1 dev eth0
  ip -n "$EXT" addr add "$EXT_IP/24" dev eth0
  ip -n "$EXT" addr add 192.168.0.1/24 dev eth0 noprefixroute
  ip -n "$EXT" link set eth0 up
  ip -n "$EXT" route add 192.168.0.0/24 dev eth0 src "$EXT_IP"
  ip -n "$EXT" route add "$SERVICE_CIDR" via "$NODE_IP" dev eth0 src "$EXT_IP"
  ip netns exec "$EXT" sysctl -qw net.ipv4.tcp_timestamps=0
  full_checksums "$EXT" eth0
  full_checksums "$NODE" eth0
  pod "$CLIENT" "$CLIENT_IP" vclient 05
  local i
  for i in 0 1 2; do pod "${BACKENDS[$i]}" "${BACKEND_IPS[$i]}" "vbe$((i + 1))" "1$i"; done
}

start_servers() {
  local ns
  for ns in "${BACKENDS[@]}"; do
    ip netns exec "$ns" "$python" "$here/traffic.py" serve 8080 5353 >/dev/null 2>&1 &
  done
  for ns in "${BACKENDS[@]}"; do
    local ok=
    for _ in $(seq 50); do
      if ip netns exec "$ns" ss -Hltn 'sport = :8080' | grep -q . && ip netns exec "$ns" ss -Hlun 'sport = :5353' | grep -q .; then ok=1; break; fi
      sleep 0.1
    done
    [ -n "$ok" ] || { echo "$0: the server in $ns did not start" >&2; exit 1; }
  done
}

# The traffic, in a fixed order, each connection from its own client port:
#   from the pod 10.244.1.5 and from outside 203.0.113.7, to every service: 6 TCP connections and 3 UDP exchanges
#   (echo at its ClusterIP, the NodePort services at 192.168.0.2:nodePort), and to empty 3 TCP + 2 UDP (rejected).
run_traffic() { # LOG
  local log="$1"
  c() { ip netns exec "$1" "$python" "$here/traffic.py" client "${@:2}" >>"$log"; }
  c "$CLIENT" tcp 10.96.1.10 80 41001 6 pod
  c "$CLIENT" udp 10.96.1.10 53 41101 3 pod
  c "$CLIENT" tcp "$NODE_IP" 30080 42001 6 pod
  c "$CLIENT" udp "$NODE_IP" 30053 42101 3 pod
  c "$CLIENT" tcp "$NODE_IP" 30090 43001 6 pod
  c "$CLIENT" udp "$NODE_IP" 30054 43101 3 pod
  c "$CLIENT" tcp 10.96.1.40 80 44001 3 pod
  c "$CLIENT" udp 10.96.1.40 53 44101 2 pod
  c "$EXT" tcp 10.96.1.10 80 51001 6 external
  c "$EXT" udp 10.96.1.10 53 51101 3 external
  c "$EXT" tcp "$NODE_IP" 30080 52001 6 external
  c "$EXT" udp "$NODE_IP" 30053 52101 3 external
  c "$EXT" tcp "$NODE_IP" 30090 53001 6 external
  c "$EXT" udp "$NODE_IP" 30054 53101 3 external
  c "$EXT" tcp "$NODE_IP" 30099 54001 3 external
  c "$EXT" udp "$NODE_IP" 30055 54101 2 external
}

write_readme() { # DIR MODE LINKTYPE
  local dir="$1" mode="$2" lt="$3"
  local frames; frames="$(tcpdump -r "$dir/node.pcap" -n 2>/dev/null | wc -l)"
  local ins outs
  ins="$(tcpdump -r "$dir/node.pcap" -n inbound 2>/dev/null | wc -l)"
  outs="$(tcpdump -r "$dir/node.pcap" -n outbound 2>/dev/null | wc -l)"
  cat >"$dir/README.md" <<EOF
# kernel-$mode: a real kernel as kube-proxy's node ($mode mode)

\`node.pcap\` was captured inside a network namespace acting as node-1 of the cluster in \`cluster/\`, with
kube-proxy's $mode rules for that cluster loaded into the kernel (\`rules.txt\`: $( [ "$mode" = iptables ] && echo "iptables-save" || echo "nft list table ip kube-proxy" ) after
the run), by \`tcpdump -i any\` ($lt). Every frame is the kernel's own: nothing was edited.

- Made by: \`$invocation\` (as root), $(date -u '+%Y-%m-%d %H:%M UTC')
- Kernel: \`$(uname -r)\`; $(tcpdump --version 2>&1 | head -1); $(iptables -V 2>&1 | head -1); $(nft -v 2>&1 | head -1)
- Capture: \`tcpdump -i any -n -U --immediate-mode -B 32768 -Z root -w node.pcap -y $lt ip\` in the node namespace:
  $frames frames, $ins incoming (packet type host/broadcast/multicast/otherhost) and $outs outgoing (PACKET_OUTGOING).
- Topology: node eth0 $NODE_IP/24 towards the off-cluster client $EXT_IP; routed veths (node side
  $GW/32, like a CNI's pod gateway) to the client pod $CLIENT_IP and the backend pods ${BACKEND_IPS[*]},
  each running \`tests/kernel-captures/traffic.py serve 8080 5353\` (answers with the source address it saw). The veths'
  TX checksum offload is off, so every frame carries its full checksum; the node's \`net.ipv4.icmp_ratelimit\` is 0, so
  every rejected packet gets its ICMP error.
- Traffic, in this order, each connection from its own fixed client port (only the kernel's random choices of backend
  and masquerade port differ between runs): from the pod and from outside, to echo's ClusterIP (10.96.1.10 80/TCP,
  53/UDP), web-cluster's NodePort (30080/TCP, 30053/UDP; externalTrafficPolicy Cluster), web-local's NodePort
  (30090/TCP, 30054/UDP; externalTrafficPolicy Local): 6 TCP connections and 3 UDP exchanges each; to empty (no
  endpoints; ClusterIP 10.96.1.40 from the pod, NodePort 30099/TCP and 30055/UDP from outside): 3 TCP + 2 UDP each, all
  rejected with ICMP port unreachable. \`traffic.txt\` lists what every client got back.
- Check it with DataPlane: \`dataplane verify --cluster cluster --node node-1 node.pcap\` (every connection agrees).
  \`dataplane cluster --cluster cluster --node node-1\` and \`dataplane maps ...\` show the same services, frontends and
  endpoints as \`rules.txt\`, plus DataPlane's emulated default/kubernetes (10.96.0.1) and kube-system/kube-dns
  (10.96.0.10), which the manifests leave out and the node's rules do not have; no traffic goes to them.

The altered copies under \`pcaps/verify/altered/\` are made from these captures by
\`dotnet run --project tests/DataPlane.FixtureBuilder -- --verify-altered pcaps/verify\`.
EOF
}

# ---------------------------------------------------------------------------------------------------------------------

run_mode() { # MODE
  local mode="$1" dir="$outroot/kernel-$1" lt
  [ "$mode" = iptables ] && lt=LINUX_SLL2 || lt=LINUX_SLL
  rm -rf "$dir"; mkdir -p "$dir/cluster"
  write_manifests "$dir/cluster" "$mode"
  build_topology
  if [ "$mode" = iptables ]; then
    iptables_rules >"$dir/rules.in"
    ip netns exec "$NODE" iptables-restore <"$dir/rules.in"
  else
    nft_rules >"$dir/rules.in"
    ip netns exec "$NODE" nft -f "$dir/rules.in"
  fi
  rm -f "$dir/rules.in"
  start_servers

  # -y always: libpcap 1.10 already picks LINUX_SLL2 for "any" by default; the nftables capture asks for the older SLL.
  local ylink=(-y "$lt")
  # --immediate-mode: without it libpcap's TPACKET_V3 ring hands packets over a block at a time (after up to 1 s), and
  # whatever is still in the last block when tcpdump is stopped never reaches the file.
  # -Z root: Debian's tcpdump would otherwise write the file as user tcpdump, which cannot enter a private (0700) folder.
  ip netns exec "$NODE" tcpdump -i any -n -U --immediate-mode -B 32768 -Z root -w "$dir/node.pcap" "${ylink[@]}" ip 2>"$dir/tcpdump.err" &
  capture_pid=$!
  for _ in $(seq 100); do grep -q "listening on" "$dir/tcpdump.err" 2>/dev/null && break; sleep 0.05; done
  grep -q "listening on" "$dir/tcpdump.err" || { cat "$dir/tcpdump.err" >&2; echo "$0: tcpdump did not start" >&2; exit 1; }

  : >"$dir/traffic.txt"
  run_traffic "$dir/traffic.txt"
  sleep 1
  kill -INT "$capture_pid"; wait "$capture_pid" || true; capture_pid=
  if ! grep -q "^0 packets dropped by kernel" "$dir/tcpdump.err"; then
    cat "$dir/tcpdump.err" >&2; echo "$0: tcpdump lost packets" >&2; exit 1
  fi
  rm -f "$dir/tcpdump.err"

  if [ "$mode" = iptables ]; then
    ip netns exec "$NODE" iptables-save | grep -v '^#' >"$dir/rules.txt"
  else
    ip netns exec "$NODE" nft list table ip kube-proxy >"$dir/rules.txt"
  fi
  cleanup
  write_readme "$dir" "$mode" "$lt"
  echo "$dir: $(tcpdump -r "$dir/node.pcap" -n 2>/dev/null | wc -l) frames, $(wc -l <"$dir/traffic.txt") client results"
}

for m in "${modes[@]}"; do run_mode "$m"; done
