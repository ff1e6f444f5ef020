#!/usr/bin/env bash
# Builds every binary the local cluster runs from Go modules (the Go module proxy is
# the only source), once per version, into
#   $EXECSESSION_CACHE_DIR/bin/<component>-<version>/
# and installs them where the harness and the node expect them:
#   /usr/local/bin   kube-apiserver, kube-controller-manager, kube-scheduler, kubelet,
#                    kube-proxy, kubectl, etcd, etcdctl, containerd, ctr,
#                    containerd-shim-runc-v2, runc
#   /opt/cni/bin     bridge, host-local, loopback, portmap
# A finished build is never redone. Versions (environment):
#   KUBE_VERSION (1.37.2), CONTAINERD_VERSION (2.3.7), RUNC_VERSION (1.4.4),
#   ETCD_VERSION (3.6.16), CNI_VERSION (1.9.0), HELM_VERSION (3.21.4: helm.sh/helm/v3, for the chart tests),
#   SEAWEEDFS_VERSION (a pseudo-version of github.com/seaweedfs/seaweedfs: the S3 server the
#   recording store's tests run; installed as /usr/local/bin/weed)
# See docs/local-cluster.md and docs/adr/0013-kubernetes-from-go-modules.md.
set -euo pipefail

KUBE_VERSION="${KUBE_VERSION:-1.37.2}"
CONTAINERD_VERSION="${CONTAINERD_VERSION:-2.3.7}"
RUNC_VERSION="${RUNC_VERSION:-1.4.4}"
ETCD_VERSION="${ETCD_VERSION:-3.6.16}"
CNI_VERSION="${CNI_VERSION:-1.9.0}"
HELM_VERSION="${HELM_VERSION:-3.21.4}"
SEAWEEDFS_VERSION="${SEAWEEDFS_VERSION:-v0.0.0-20261109003541-7506e5f91cd6}"
KUBE_VERSION="${KUBE_VERSION#v}"

CACHE_DIR="${EXECSESSION_CACHE_DIR:-/var/cache/execsession}"
INSTALL_BIN="${EXECSESSION_INSTALL_BIN:-/usr/local/bin}"
CNI_BIN="${EXECSESSION_CNI_BIN:-/opt/cni/bin}"
GO_MIN=1.26

log() { echo "build: $*" >&2; }
die() { echo "build: $*" >&2; exit 1; }

# --- Go: the machine's Go, never Debian's golang-go (1.19) if that is also installed.
find_go() {
  local g
  for g in "${GO:-}" /usr/local/go/bin/go "$(command -v go 2>/dev/null || true)"; do
    [ -n "$g" ] && [ -x "$g" ] || continue
    local v; v=$("$g" env GOVERSION 2>/dev/null | sed 's/^go//')
    if [ -n "$v" ] && [ "$(printf '%s\n%s\n' "$GO_MIN" "$v" | sort -V | head -n1)" = "$GO_MIN" ]; then
      echo "$g"; return 0
    fi
    log "skipping $g: it is Go ${v:-unknown}, the build needs Go >= $GO_MIN"
  done
  return 1
}
GO_BIN=$(find_go) || die "no Go >= $GO_MIN found (tried \$GO, /usr/local/go/bin/go and go on PATH). Install Go $GO_MIN or newer; Debian's golang-go is too old."
export PATH="$(dirname "$GO_BIN"):$PATH"
# A go line newer than this toolchain fails loudly instead of downloading another toolchain.
export GOTOOLCHAIN=local GOFLAGS=-mod=mod GOMODCACHE="$CACHE_DIR/go/mod" GOCACHE="$CACHE_DIR/go/cache"
export GOPROXY="${GOPROXY:-https://proxy.golang.org}" GONOSUMDB="${GONOSUMDB:-}" GOPATH="$CACHE_DIR/go/path"
mkdir -p "$GOMODCACHE" "$GOCACHE" "$GOPATH"

# --- progress: which component, elapsed, every 20 s while a step runs.
START=$(date +%s)
run_step() { # run_step LABEL LOGFILE cmd...
  local label=$1 logf=$2; shift 2
  local t0; t0=$(date +%s)
  log "$label ..."
  ("$@") >"$logf" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 2
    local now; now=$(date +%s)
    if (( (now - t0) % 20 < 2 && now > t0 + 1 )); then
      log "$label: $(( now - t0 ))s (total $(( now - START ))s)"
    fi
  done
  if ! wait "$pid"; then
    log "$label failed after $(( $(date +%s) - t0 ))s; last lines of $logf:"
    tail -n 40 "$logf" >&2
    if grep -qE 'unknown revision|not found: |410 Gone|no matching versions' "$logf"; then
      log "a module or version is not served by the Go module proxy (see above)."
      log "try the nearest served version, for example KUBE_VERSION=1.36.3 (go list -m -versions k8s.io/kubernetes lists them)."
    fi
    exit 1
  fi
  log "$label: done in $(( $(date +%s) - t0 ))s"
}

# download_mod MODULE@VERSION: prints the path of the module's go.mod, or names what is not served.
download_mod() {
  local out
  if ! out=$(go mod download -json "$1" 2>&1); then
    log "$1 is not served by the Go module proxy: $(echo "$out" | grep -m1 -o '"Error": *"[^"]*"' || echo "$out" | tail -n1)"
    die "try the nearest served version (go list -m -versions ${1%@*} lists them; for Kubernetes the fallback is KUBE_VERSION=1.36.3)"
  fi
  echo "$out" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p'
}

done_dir() { [ -f "$1/.complete" ]; }

# ---------------------------------------------------------------- runc (cgo + seccomp)
build_runc() {
  local out="$CACHE_DIR/bin/runc-$RUNC_VERSION"
  done_dir "$out" && return 0
  pkg-config --exists libseccomp || die "libseccomp-dev and pkg-config are missing; run tools/cluster/install-system.sh"
  rm -rf "$out"; mkdir -p "$out"
  run_step "runc v$RUNC_VERSION" "$out/build.log" env CGO_ENABLED=1 GOBIN="$out" \
    go install -trimpath -tags seccomp -ldflags "-X main.gitCommit=v$RUNC_VERSION" "github.com/opencontainers/runc@v$RUNC_VERSION"
  touch "$out/.complete"
}

# ---------------------------------------------------------------- containerd 2.x
build_containerd() {
  local out="$CACHE_DIR/bin/containerd-$CONTAINERD_VERSION" m=github.com/containerd/containerd/v2
  done_dir "$out" && return 0
  rm -rf "$out"; mkdir -p "$out"
  local ld="-X $m/version.Version=v$CONTAINERD_VERSION -X $m/version.Revision=v$CONTAINERD_VERSION"
  run_step "containerd v$CONTAINERD_VERSION" "$out/build.log" env CGO_ENABLED=0 GOBIN="$out" \
    go install -trimpath -tags 'no_btrfs no_devmapper no_zfs urfave_cli_no_docs' -ldflags "$ld" \
    "$m/cmd/containerd@v$CONTAINERD_VERSION" "$m/cmd/ctr@v$CONTAINERD_VERSION"
  run_step "containerd-shim-runc-v2 v$CONTAINERD_VERSION" "$out/build-shim.log" env CGO_ENABLED=0 GOBIN="$out" \
    go install -trimpath -tags 'no_btrfs no_devmapper no_zfs no_grpc urfave_cli_no_docs' -ldflags "$ld -extldflags -static" \
    "$m/cmd/containerd-shim-runc-v2@v$CONTAINERD_VERSION"
  touch "$out/.complete"
}

# ---------------------------------------------------------------- CNI plugins
build_cni() {
  local out="$CACHE_DIR/bin/cni-$CNI_VERSION" m=github.com/containernetworking/plugins
  done_dir "$out" && return 0
  rm -rf "$out"; mkdir -p "$out"
  run_step "CNI plugins v$CNI_VERSION" "$out/build.log" env CGO_ENABLED=0 GOBIN="$out" \
    go install -trimpath -ldflags "-X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=v$CNI_VERSION" \
    "$m/plugins/main/bridge@v$CNI_VERSION" "$m/plugins/main/loopback@v$CNI_VERSION" \
    "$m/plugins/ipam/host-local@v$CNI_VERSION" "$m/plugins/meta/portmap@v$CNI_VERSION"
  touch "$out/.complete"
}

# ---------------------------------------------------------------- etcd (a wrapper module: its go.mod has replaces)
build_helm() {
  local out="$CACHE_DIR/bin/helm-$HELM_VERSION" m=helm.sh/helm/v3
  done_dir "$out" && return 0
  rm -rf "$out"; mkdir -p "$out"
  download_mod "$m@v$HELM_VERSION" >/dev/null
  run_step "helm v$HELM_VERSION" "$out/build.log" env CGO_ENABLED=0 GOBIN="$out" \
    go install -trimpath -ldflags "-X $m/internal/version.version=v$HELM_VERSION -X $m/internal/version.gitTreeState=clean" "$m/cmd/helm@v$HELM_VERSION"
  [ -x "$out/helm" ] || die "helm build produced $(ls "$out")"
  touch "$out/.complete"
}

# ---------------------------------------------------------------- SeaweedFS (a wrapper module: its go.mod has a replace)
# Only its `weed` command, for the S3 server the s3 recording store is tested against (ADR 38).
build_seaweedfs() {
  local out="$CACHE_DIR/bin/seaweedfs-$SEAWEEDFS_VERSION" w="$CACHE_DIR/build/seaweedfs-$SEAWEEDFS_VERSION" m=github.com/seaweedfs/seaweedfs
  done_dir "$out" && return 0
  rm -rf "$out" "$w"; mkdir -p "$out" "$w"
  local gomod; gomod=$(download_mod "$m@$SEAWEEDFS_VERSION")
  # A dependency's replaces are ignored: the wrapper repeats upstream's (not commented ones).
  {
    printf 'module execsession.local/seaweedfs-build\n\ngo %s\n\nrequire %s %s\n\n' "$(sed -n 's/^go //p' "$gomod")" "$m" "$SEAWEEDFS_VERSION"
    grep -E '^replace ' "$gomod" || true
  } > "$w/go.mod"
  (cd "$w" && run_step "seaweedfs $SEAWEEDFS_VERSION: resolving modules" "$out/get.log" \
    go get -tool "$m/weed@$SEAWEEDFS_VERSION")
  (cd "$w" && run_step "seaweedfs $SEAWEEDFS_VERSION: compiling weed" "$out/build.log" env CGO_ENABLED=0 \
    go build -trimpath -ldflags "-s -w" -o "$out/weed" "$m/weed")
  [ -x "$out/weed" ] || die "seaweedfs build produced $(ls "$out")"
  touch "$out/.complete"
  rm -rf "$w"
}

build_etcd() {
  local out="$CACHE_DIR/bin/etcd-$ETCD_VERSION" w="$CACHE_DIR/build/etcd-$ETCD_VERSION"
  done_dir "$out" && return 0
  rm -rf "$out" "$w"; mkdir -p "$out" "$w"
  download_mod "go.etcd.io/etcd/server/v3@v$ETCD_VERSION" >/dev/null
  download_mod "go.etcd.io/etcd/etcdctl/v3@v$ETCD_VERSION" >/dev/null
  printf 'module execsession.local/etcd-build\n\ngo %s\n' "$GO_MIN" > "$w/go.mod"
  (cd "$w" && run_step "etcd v$ETCD_VERSION: resolving modules" "$out/get.log" \
    go get -tool "go.etcd.io/etcd/server/v3@v$ETCD_VERSION" "go.etcd.io/etcd/etcdctl/v3@v$ETCD_VERSION")
  (cd "$w" && run_step "etcd v$ETCD_VERSION" "$out/build.log" env CGO_ENABLED=0 \
    go build -trimpath -ldflags "-X go.etcd.io/etcd/api/v3/version.GitSHA=v$ETCD_VERSION" -o "$out/" \
    go.etcd.io/etcd/server/v3 go.etcd.io/etcd/etcdctl/v3)
  # go build names a module-root package after its last path element ("v3"): name them.
  [ -f "$out/v3" ] && mv "$out/v3" "$out/etcd" || true
  [ -x "$out/etcd" ] || mv "$out/server" "$out/etcd" 2>/dev/null || true
  [ -x "$out/etcd" ] && [ -x "$out/etcdctl" ] || die "etcd build produced $(ls "$out")"
  touch "$out/.complete"
  rm -rf "$w"
}

# ---------------------------------------------------------------- Kubernetes (a wrapper module)
KUBE_CMDS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
build_kubernetes() {
  local v="v$KUBE_VERSION" out="$CACHE_DIR/bin/kubernetes-$KUBE_VERSION" w="$CACHE_DIR/build/kubernetes-$KUBE_VERSION"
  done_dir "$out" && return 0
  rm -rf "$out" "$w"; mkdir -p "$out" "$w"
  local gomod; gomod=$(download_mod "k8s.io/kubernetes@$v")
  local minor patch; minor=$(echo "$KUBE_VERSION" | cut -d. -f2); patch=$(echo "$KUBE_VERSION" | cut -d. -f3)
  local staging="v0.$minor.$patch"
  # k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with
  # ./staging/src/...; a dependency's replaces are ignored, so the wrapper replaces each
  # with its published version. The list comes from upstream's own go.mod, never by hand.
  {
    printf 'module execsession.local/kubernetes-build\n\ngo %s\n\n' "$(sed -n 's/^go //p' "$gomod")"
    grep -E '^godebug ' "$gomod" || true
    sed -n '/^godebug (/,/^)/p' "$gomod"
    printf '\nrequire k8s.io/kubernetes %s\n\nreplace (\n' "$v"
    sed -n 's#^[[:space:]]*\(k8s\.io/[a-z0-9./-]*\) => \./staging/src/.*#\1#p' "$gomod" | sort -u | while read -r mod; do
      printf '\t%s => %s %s\n' "$mod" "$mod" "$staging"
    done
    printf ')\n'
  } > "$w/go.mod"
  local n; n=$(grep -c '=> k8s.io/' "$w/go.mod" || true)
  [ "$n" -gt 20 ] || die "found only $n staging modules in $gomod; its layout changed"
  log "kubernetes $v: $n staging modules replaced at $staging"
  local pkgs=(); for c in "${KUBE_CMDS[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
  (cd "$w" && run_step "kubernetes $v: resolving modules (first time: ~1 GB download)" "$out/get.log" \
    go get -tool "${pkgs[@]/%/@$v}") || {
      grep -oE 'k8s\.io/[a-z0-9./-]+@v0\.[0-9.]+[^:]*: (invalid version|unknown revision)[^ ]*' "$out/get.log" | head -n3 >&2 || true
      die "resolving kubernetes $v failed (see above); a staging module at $staging may not be served: try KUBE_VERSION=1.36.3"
    }
  # The version the binaries report (hack/lib/version.sh): kubectl version must show it.
  local commit; commit=$(sed -n 's/.*"Hash": *"\([0-9a-f]*\)".*/\1/p' "$(dirname "$gomod")/$v.info" 2>/dev/null | head -n1)
  local date; date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  local ld="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $p.gitVersion=$v -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=$date"
    [ -n "$commit" ] && ld+=" -X $p.gitCommit=$commit"
  done
  (cd "$w" && go list -deps -f '{{with .Module}}{{.Path}} {{.Version}}{{end}}' "${pkgs[@]}" 2>/dev/null | sort -u > "$out/modules.txt") || true
  (cd "$w" && run_step "kubernetes $v: compiling ${KUBE_CMDS[*]} (cold: ~20 min on 2 cores)" "$out/build.log" \
    env CGO_ENABLED=0 go build -trimpath -ldflags "$ld" -o "$out/" "${pkgs[@]}")
  cp "$w/go.mod" "$out/wrapper.go.mod"
  touch "$out/.complete"
  rm -rf "$w"
}

install_into() { # install_into DIR FILES...: copies (not links) so a chroot from a pod finds them too.
  local dir=$1; shift; mkdir -p "$dir"
  for f in "$@"; do
    if ! cmp -s "$f" "$dir/$(basename "$f")"; then install -m 0755 "$f" "$dir/$(basename "$f").new" && mv -f "$dir/$(basename "$f").new" "$dir/$(basename "$f")"; fi
  done
}

# core: everything but SeaweedFS, without installing (setup.sh builds SeaweedFS beside it).
what="${1:-all}"
case "$what" in
  all|core|runc) build_runc ;;&
  all|core|containerd) build_containerd ;;&
  all|core|cni) build_cni ;;&
  all|core|etcd) build_etcd ;;&
  all|core|kubernetes) build_kubernetes ;;&
  all|core|helm) build_helm ;;&
  all|seaweedfs) build_seaweedfs ;;&
  all|core|runc|containerd|cni|etcd|kubernetes|helm|seaweedfs) ;;
  *) die "usage: build.sh [all|core|runc|containerd|cni|etcd|kubernetes|helm|seaweedfs]" ;;
esac

if [ "$what" = all ]; then
  install_into "$INSTALL_BIN" "$CACHE_DIR/bin/runc-$RUNC_VERSION/runc" \
    "$CACHE_DIR"/bin/containerd-"$CONTAINERD_VERSION"/{containerd,ctr,containerd-shim-runc-v2} \
    "$CACHE_DIR"/bin/etcd-"$ETCD_VERSION"/{etcd,etcdctl} \
    "${KUBE_CMDS[@]/#/$CACHE_DIR/bin/kubernetes-$KUBE_VERSION/}" \
    "$CACHE_DIR/bin/helm-$HELM_VERSION/helm" "$CACHE_DIR/bin/seaweedfs-$SEAWEEDFS_VERSION/weed"
  install_into "$CNI_BIN" "$CACHE_DIR"/bin/cni-"$CNI_VERSION"/{bridge,host-local,loopback,portmap}
  # What the harness reads to check that the installed binaries are the ones selected.
  printf 'KUBE_VERSION=%s\nCONTAINERD_VERSION=%s\nRUNC_VERSION=%s\nETCD_VERSION=%s\nCNI_VERSION=%s\nHELM_VERSION=%s\n' \
    "$KUBE_VERSION" "$CONTAINERD_VERSION" "$RUNC_VERSION" "$ETCD_VERSION" "$CNI_VERSION" "$HELM_VERSION" > "$CACHE_DIR/installed.env"
  log "installed into $INSTALL_BIN and $CNI_BIN in $(( $(date +%s) - START ))s: kubernetes v$KUBE_VERSION, containerd v$CONTAINERD_VERSION, runc v$RUNC_VERSION, etcd v$ETCD_VERSION, CNI v$CNI_VERSION, helm v$HELM_VERSION"
fi
