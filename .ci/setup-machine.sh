#!/usr/bin/env bash
# Machine set-up shared by the README's two commands: installs what the .NET SDK does not bring.
# Idempotent and explicit: each Debian package is checked with dpkg and installed only when missing.
#   libpcap0.8  SharpPcap's native library, used by the tests that cross-check our managed pcap reader against libpcap
#   afl++       the fuzzer tests/fuzz.sh drives (SharpFuzz-instrumented harnesses in tests/DataPlane.Fuzz)
set -euo pipefail
packages=(libpcap0.8 afl++)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v dotnet >/dev/null || { echo "setup: the .NET 10 SDK (dotnet) is required" >&2; exit 1; }
