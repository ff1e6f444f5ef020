#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, kube-scheduler and kubelet from
# Debian's kubernetes source package, once per version, into
#   $EXECSESSION_CACHE_DIR/kubernetes/<version>/bin
# and prints that directory. A finished build is never redone.
set -euo pipefail

CACHE_DIR="${EXECSESSION_CACHE_DIR:-/var/cache/execsession}"
BINS=(kube-apiserver kube-controller-manager kube-scheduler kubelet)

dsc=$(ls "$CACHE_DIR"/src/kubernetes_*.dsc 2>/dev/null | head -n1 || true)
if [ -z "$dsc" ]; then
  echo "build-kubernetes: no source package in $CACHE_DIR/src; run test/cluster/install-system.sh first" >&2
  exit 1
fi
version=$(sed -n 's/^Version: //p' "$dsc")
out="$CACHE_DIR/kubernetes/$version/bin"
if [ -f "$out/.complete" ]; then
  echo "$out"
  exit 0
fi

work="$CACHE_DIR/build/$version"
rm -rf "$work"
mkdir -p "$work"
echo "build-kubernetes: unpacking $version (Debian patches applied)" >&2
dpkg-source --no-check -x "$dsc" "$work/src" >/dev/null
cd "$work/src"

# Kubernetes 1.20 vendors reflect2 v1.0.1, which is broken under Go >= 1.18:
# kube-apiserver then dies with "fatal error: fault" on the first custom resource
# create. Debian ships the fixed v1.0.2; use its sources (keep the vendored LICENSE).
fixed=/usr/share/gocode/src/github.com/modern-go/reflect2
vend=vendor/github.com/modern-go/reflect2
if [ ! -f "$fixed/go_above_118.go" ]; then
  echo "build-kubernetes: $fixed/go_above_118.go missing; install golang-github-modern-go-reflect2-dev" >&2
  exit 1
fi
find "$vend" -maxdepth 1 \( -name '*.go' -o -name '*.s' \) -delete
cp "$fixed"/*.go "$fixed"/*.s "$vend"/

# Build in GOPATH mode as debian/rules does; `go build -mod=vendor` fails with Go 1.19.
mkdir -p .go/src/k8s.io .home
ln -sfn ../../.. .go/src/k8s.io/kubernetes
echo "build-kubernetes: compiling ${BINS[*]} (about 5 minutes on 2 cores)" >&2
start=$(date +%s)
GOPATH="$PWD/.go" CGO_ENABLED=0 HOME="$PWD/.home" GOFLAGS= \
  make WHAT="$(printf 'cmd/%s ' "${BINS[@]}")" >"$work/build.log" 2>&1 || {
  echo "build-kubernetes: build failed; last lines of $work/build.log:" >&2
  tail -n 30 "$work/build.log" >&2
  exit 1
}
mkdir -p "$out"
for b in "${BINS[@]}"; do cp "_output/bin/$b" "$out/"; done
touch "$out/.complete"
echo "build-kubernetes: built in $(( $(date +%s) - start ))s" >&2
cd /
rm -rf "$work"
echo "$out"
