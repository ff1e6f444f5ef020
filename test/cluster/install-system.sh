#!/usr/bin/env bash
# Installs the Debian packages the local cluster needs and fetches the Kubernetes
# source package. Idempotent: packages already present and a source tarball already
# cached are left as they are. Needs root (apt-get).
set -euo pipefail

CACHE_DIR="${EXECSESSION_CACHE_DIR:-/var/cache/execsession}"
PACKAGES=(golang-go dpkg-dev rsync etcd-server containerd runc containernetworking-plugins
  busybox-static gcc libc6-dev iproute2 openssl util-linux golang-github-modern-go-reflect2-dev tmux socat conntrack iptables)

if [ "$(id -u)" != 0 ]; then
  echo "install-system: must run as root (it calls apt-get and later starts a kubelet)." >&2
  exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

src_list=/etc/apt/sources.list.d/execsession-src.sources
need_update=0
if [ ! -f "$src_list" ]; then
  # apt-get source needs deb-src entries; the machine ships only binary ones.
  sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources > "$src_list"
  need_update=1
fi
[ "${#missing[@]}" -gt 0 ] && need_update=1

export DEBIAN_FRONTEND=noninteractive
if [ "$need_update" = 1 ]; then
  echo "install-system: apt-get update" >&2
  apt-get update -qq
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-system: installing ${missing[*]}" >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The Debian containerd package enables its own service; the harness runs its own
# containerd with its own config, so make sure the packaged one is not holding the socket.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet containerd 2>/dev/null; then
  systemctl stop containerd || true
fi

mkdir -p "$CACHE_DIR/src"
if ! ls "$CACHE_DIR"/src/kubernetes_*.orig.tar.gz >/dev/null 2>&1; then
  echo "install-system: downloading the kubernetes source package" >&2
  (cd "$CACHE_DIR/src" && apt-get source --download-only -qq kubernetes)
fi
echo "install-system: done" >&2
