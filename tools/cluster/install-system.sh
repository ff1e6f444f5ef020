#!/usr/bin/env bash
# Installs the Debian packages the local cluster and its build need. Kubernetes, etcd,
# containerd, runc and the CNI plugins are built from Go modules by build.sh, not taken
# from Debian (whose versions are too old for Kubernetes 1.37). Idempotent: packages
# already present are left as they are. Needs root (apt-get).
#
#   install-system.sh          every package
#   install-system.sh build    only what build.sh needs (npm run setup installs the rest meanwhile)
#   install-system.sh rest     the others
set -euo pipefail
MODE=${1:-all}
case "$MODE" in all|build|rest) ;; *) echo "install-system: unknown mode $MODE (all, build or rest)" >&2; exit 2;; esac

# gcc, pkg-config and libseccomp-dev: runc is built with cgo and seccomp.
# prometheus: for promtool, which checks the /metrics exposition and the alert rules
# (test/unit/prometheus.test.ts); the Prometheus server it also installs is not used.
# asciinema: plays the recordings the operator writes (src/recording/cast.test.ts, test/e2e/recording.test.ts).
BUILD_PACKAGES=(gcc libc6-dev pkg-config libseccomp-dev ca-certificates)
REST_PACKAGES=(busybox-static iproute2 openssl util-linux tmux socat conntrack iptables prometheus asciinema)
# bash-completion, zsh and fish: the tests run the plugin's completion scripts in each shell.
REST_PACKAGES+=(bash-completion zsh fish)
# The browser terminal's e2e suite (test/e2e/browser.test.ts) drives Debian's Chromium with playwright-core: no browser download.
REST_PACKAGES+=(chromium fonts-dejavu-core)
case "$MODE" in
  build) PACKAGES=("${BUILD_PACKAGES[@]}");;
  rest) PACKAGES=("${REST_PACKAGES[@]}");;
  *) PACKAGES=("${BUILD_PACKAGES[@]}" "${REST_PACKAGES[@]}");;
esac

if [ "$(id -u)" != 0 ]; then
  echo "install-system: must run as root (it calls apt-get and later starts a kubelet)." >&2
  exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

need_update=0
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
if [ "$MODE" != build ]; then
# The Debian containerd package enables its own service; the harness runs its own
# containerd with its own config, so make sure the packaged one is not holding the socket.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet containerd 2>/dev/null; then
  systemctl stop containerd || true
fi
# Likewise the Prometheus server the prometheus package starts where systemd runs: only
# promtool is wanted, and the server would hold port 9090 and a data directory.
if command -v systemctl >/dev/null 2>&1 && systemctl is-enabled --quiet prometheus 2>/dev/null; then
  systemctl disable --now prometheus || true
fi
command -v promtool >/dev/null 2>&1 || { echo "install-system: promtool is missing after installing the prometheus package" >&2; exit 1; }
fi

# Go comes with the machine (/usr/local/go); build.sh checks its version and says what to do.
if ! /usr/local/go/bin/go version >/dev/null 2>&1 && ! command -v go >/dev/null 2>&1; then
  echo "install-system: no Go toolchain found; build.sh needs Go >= 1.26 (Debian's golang-go is too old)" >&2
  exit 1
fi
echo "install-system: done ($MODE)" >&2
