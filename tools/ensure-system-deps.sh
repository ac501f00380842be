#!/usr/bin/env bash
# Install the system programs the tests drive for real, when missing (Debian/Ubuntu, apt-get):
#   valgrind      @pkeysim/trace records a real program's accesses (valgrind --tool=lackey)
#   chromium      browser tests of the inspector and HTML reports (playwright-core, never a download)
#   redis-server  the sweep queue tests start a real Redis on a loopback port
# Runs as root or with sudo. Does nothing when everything is already installed; apt-get update runs
# at most once.
set -euo pipefail

declare -A wanted=([valgrind]=valgrind [chromium]=chromium [redis-server]=redis-server)
missing=()
for program in "${!wanted[@]}"; do
  command -v "$program" >/dev/null 2>&1 || missing+=("${wanted[$program]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-system-deps: missing ${missing[*]} and apt-get is not available; install them with this system's package manager" >&2
  exit 1
fi
run_as_root=()
if [ "$(id -u)" -ne 0 ]; then run_as_root=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${run_as_root[@]}" apt-get update
"${run_as_root[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
