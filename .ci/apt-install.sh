#!/usr/bin/env bash
# Installs the Debian packages named on the command line that are missing, and only those; says what it installs.
# Usage: .ci/apt-install.sh PACKAGE...   (APT_LOCK_TIMEOUT=SECONDS, default 600: how long to wait for a busy apt/dpkg)
#
# A package manager already at work (unattended-upgrades on a fresh machine, another user's apt-get) holds apt's locks;
# apt-get then fails at once unless told to wait:
#   - apt-get install takes dpkg's locks (/var/lib/dpkg/lock-frontend, lock): DPkg::Lock::Timeout makes it wait for them
#     (apt >= 1.9.11; older apt ignores the option).
#   - apt-get update takes the package lists' lock (/var/lib/apt/lists/lock), which DPkg::Lock::Timeout does not cover
#     (apt 2.6 still fails at once with "Could not get lock"): it is retried until the lock is free or the time is up.
set -euo pipefail
timeout="${APT_LOCK_TIMEOUT:-600}"
missing=()
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -gt 0 ] || exit 0
echo "setup: installing ${missing[*]} (apt-get; waits up to ${timeout}s for a busy package manager)"
if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); else sudo=(); fi
apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o "DPkg::Lock::Timeout=$timeout" -qq)
deadline=$((SECONDS + timeout))
waited=
until err="$("${apt[@]}" update 2>&1 >/dev/null)"; do
  if grep -q "Could not get lock" <<<"$err" && [ "$SECONDS" -lt "$deadline" ]; then
    [ -n "$waited" ] || echo "setup: the package lists are locked by another apt-get; waiting"
    waited=1
    sleep 2
    continue
  fi
  echo "$err" >&2
  echo "setup: apt-get update failed" >&2
  exit 1
done
"${apt[@]}" install -y --no-install-recommends "${missing[@]}" >/dev/null
