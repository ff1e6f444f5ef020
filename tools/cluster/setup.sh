#!/usr/bin/env bash
# `npm run setup` after `npm ci`: the Debian packages the build needs, then the build
# (build.sh: Kubernetes and the rest from Go modules, cached). Beside it, the other
# Debian packages (apt waits on the network and the disk) and SeaweedFS's build (it
# fills the cores where Kubernetes' build waits on downloads and single-threaded links).
# Then build.sh installs everything (by then all cached). On a machine where all of it
# is there already, this takes seconds.
set -euo pipefail
cd "$(dirname "$0")"
bash ./install-system.sh build
apt_log=$(mktemp /tmp/execsession-apt.XXXXXX)
echo "setup: installing the other Debian packages meanwhile (log: $apt_log)" >&2
bash ./install-system.sh rest > "$apt_log" 2>&1 &
apt_pid=$!
bash ./build.sh seaweedfs &
weed_pid=$!
rc=0
bash ./build.sh core || rc=$?
weed_rc=0
wait "$weed_pid" || weed_rc=$?
apt_rc=0
wait "$apt_pid" || apt_rc=$?
cat "$apt_log" >&2
rm -f "$apt_log"
if [ "$apt_rc" != 0 ]; then
  echo "setup: installing the Debian packages failed (above); run: bash tools/cluster/install-system.sh" >&2
  exit "$apt_rc"
fi
[ "$weed_rc" = 0 ] || { echo "setup: building SeaweedFS failed (above); run: bash tools/cluster/build.sh seaweedfs" >&2; exit "$weed_rc"; }
[ "$rc" = 0 ] || exit "$rc"
bash ./build.sh all
