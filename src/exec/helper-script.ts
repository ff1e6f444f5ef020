/**
 * The helper pod's program: a fixed POSIX sh script that ships with the operator
 * (so any busybox image serves as helper, and operator and helper never skew).
 * It is run as `sh -c SCRIPT execsession-helper SUBCOMMAND ARGS...`: every value
 * arrives as an argument or on stdin and is always quoted; no string from an
 * ExecSession spec is ever interpreted by a shell.
 *
 * Sub-commands (all paths on the node are under /host, the node's root):
 *   serve EXPIRES_EPOCH         the pod's main process: kills the session's processes
 *                               at expiry (then exits, writing "expired EPOCH" as its
 *                               termination message) or on SIGTERM
 *   inspect CID CONFIG RUNC_ROOT [SUBCGROUP]
 *                               prints sections: the container's OCI config, its
 *                               init pid, /etc/passwd, /etc/group, namespaces, cgroups;
 *                               with SUBCGROUP, also prepares it (see prepare)
 *   prepare PID SUBCGROUP       creates the session's sub-cgroup under every cgroup
 *                               hierarchy of the container
 *   start JOB KEEP BACKEND SPEC ARGS...
 *                               starts a non-interactive job in the background, keeping
 *                               the first KEEP bytes of its stdout and of its stderr, and
 *                               when each byte came (ticks), for its recording (ADR 43)
 *   wait JOB SECONDS LIMIT      waits up to SECONDS for the job; prints its result sections
 *                               (the first LIMIT bytes of stdout and of stderr)
 *   block JOB FILE N            prints block N (1 MiB) of the job's out, err or ticks
 *   attach BACKEND SPEC ARGS... runs one process in the foreground of this exec (an
 *                               attach: its stdio and terminal are the client's)
 *   deadline EXPIRES_EPOCH      moves serve's expiry (after an extend)
 *   procs                       prints the pids in the session's cgroups
 *   cleanup                     kills every process in the session's cgroups and removes them
 */
export const HELPER_SCRIPT = String.raw`
set -u
S=/tmp/execsession
H=/host
# The kubelet reads the container's termination message from here.
TL=/dev/termination-log
# chroot finds the node's runc with this PATH: /usr/local/sbin is where containerd's
# install guide puts runc, /usr/local/bin where builds from source land.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
T=
mkdir -p "$S"

fail() { echo "execsession-helper: $*" >&2; exit 2; }

# scratch: a temporary directory of this run alone, in $T, removed when it exits.
# Several execs of the helper run at once (attaches side by side each inspect),
# so nothing one of them writes for itself may live at a shared path under $S.
scratch() {
  [ -n "$T" ] && return 0
  T=$(mktemp -d "$S/run.XXXXXX") || fail "cannot create a scratch directory under $S"
  trap 'rm -rf "$T"' EXIT
}

# emit NAME FILE: a length-prefixed section, so file contents can never fake another section.
emit() {
  if [ -f "$2" ]; then
    printf '%s %s\n' "$1" "$(wc -c < "$2" | tr -d ' ')"
    cat "$2"
  fi
}

# emit_text NAME TEXT
emit_text() {
  scratch
  printf '%s' "$2" > "$T/.emit"
  emit "$1" "$T/.emit"
}

serve() {
  echo $$ > "$S/serve.pid"
  echo "$1" > "$S/deadline"
  trap 'cleanup >/dev/null 2>&1; exit 0' TERM INT
  # set_deadline wakes the wait below, so a moved deadline is read at once.
  trap ':' USR1
  # Asleep until 2 s before the deadline (a minute at most), then every 50 ms: the
  # session ends at its expiry, not up to a second later. No polling every second: 60
  # helpers forking date, cat and sleep each second took 1.5 of a 2-core node's cores
  # (issue 15, ADR 40).
  while n=$(date +%s) && read -r d < "$S/deadline" && [ "$n" -lt "$d" ]; do
    left=$((d - n))
    if [ "$left" -gt 62 ]; then sleep 60 & elif [ "$left" -gt 2 ]; then sleep $((left - 2)) & else sleep 0.05 & fi
    w=$!
    wait "$w"
    kill "$w" 2>/dev/null
  done
  # Expired: end the session here, whether or not the operator runs, and exit, so that the
  # kubelet records when (the container's finishedAt), which the operator reports as the end.
  # cleanup runs in a subshell: when something survives, it exits, and this tries again.
  up=$(cut -d' ' -f1 /proc/uptime)
  until (cleanup) > "$S/expired" 2>&1; do sleep 0.1; done
  # With the node's uptime before and after the clean-up: how long ending the session took.
  { echo "expired $d"; cat "$S/expired"; echo "uptime $up $(cut -d' ' -f1 /proc/uptime)"; } > "$TL"
  exit 0
}

# read_file NAME PATH: a regular file inside the container, never through a symlink
# (an absolute symlink would resolve against the helper's root, not the container's).
read_file() {
  if [ -L "$2" ] || [ -L "$(dirname "$2")" ]; then
    emit_text "$1.error" "symlink"
  elif [ -f "$2" ]; then
    head -c 1048576 "$2" > "$T/$1"
    emit "$1" "$T/$1"
  fi
}

# find_init CID: the pid of the container's first process, from the cgroup that names it.
find_init() {
  for st in /proc/[0-9]*/status; do
    p=$(dirname "$st")
    grep -q -- "$1" "$p/cgroup" 2>/dev/null || continue
    ns=$(sed -n 's/^NSpid:.*[[:space:]]\([0-9]*\)$/\1/p' "$st")
    [ "$ns" = 1 ] && { basename "$p"; return 0; }
  done
  return 1
}

inspect() {
  cid=$1 config=$2 runc_root=$3
  case "$cid" in *[!0-9a-f]*|'') fail "bad container id";; esac
  scratch
  pid=
  if [ -f "$H$config" ]; then
    emit config "$H$config"
    if chroot "$H" runc --root "$runc_root" state "$cid" > "$T/state" 2> "$T/state.err"; then
      emit state "$T/state"
      pid=$(sed -n 's/^[[:space:]]*"pid":[[:space:]]*\([0-9]*\).*/\1/p' "$T/state" | head -n 1)
    else
      emit state.error "$T/state.err"
    fi
  fi
  [ -n "$pid" ] || pid=$(find_init "$cid") || { emit_text error "no process of container $cid found on this node"; return 0; }
  emit_text pid "$pid"
  read_file passwd "/proc/$pid/root/etc/passwd"
  read_file group "/proc/$pid/root/etc/group"
  emit_text userns "$(readlink "/proc/$pid/ns/user") $(readlink /proc/self/ns/user)"
  head -c 262144 "/proc/$pid/environ" > "$T/environ"
  emit environ "$T/environ"
  emit cgroup "/proc/$pid/cgroup"
  emit uid_map "/proc/$pid/uid_map"
  emit gid_map "/proc/$pid/gid_map"
  grep -E '^(CapBnd|CapEff|NoNewPrivs|Seccomp):' "/proc/$pid/status" > "$T/status"
  emit status "$T/status"
  if [ -f "$H/sys/fs/cgroup/cgroup.controllers" ]; then emit_text cgroupfs v2; else emit_text cgroupfs v1; fi
  # With a sub-cgroup name, prepare it in the same exec: one round trip fewer per session.
  if [ "$#" -ge 4 ]; then
    prepare "$pid" "$4" > "$T/prepared"
    emit prepared "$T/prepared"
  fi
}

prepare() {
  pid=$1 sub=$2
  case "$sub" in execsession-*) ;; *) fail "bad sub-cgroup name";; esac
  scratch
  : > "$T/cgroups.new"
  cut -d: -f3- "/proc/$pid/cgroup" | sort -u > "$T/cgpaths"
  while IFS= read -r path; do
    for root in "$H/sys/fs/cgroup" "$H"/sys/fs/cgroup/*; do
      dir="$root$path"
      [ -f "$dir/cgroup.procs" ] || continue
      mkdir -p "$dir/$sub" || fail "cannot create $dir/$sub"
      # cgroup v1 cpuset starts empty, and an empty cpuset refuses every process.
      for f in cpuset.cpus cpuset.mems; do
        [ -f "$dir/$f" ] && cat "$dir/$f" > "$dir/$sub/$f"
      done
      echo "$dir/$sub" >> "$T/cgroups.new"
    done
  done < "$T/cgpaths"
  sort -u "$T/cgroups.new" > "$T/cgroups"
  [ -s "$T/cgroups" ] || fail "no cgroup of process $pid found under /sys/fs/cgroup"
  # Replaced in one rename: attach and cleanup read $S/cgroups at any time.
  mv "$T/cgroups" "$S/cgroups"
  echo "$pid" > "$S/target.pid"
  cat "$S/cgroups"
}

procs() {
  [ -f "$S/cgroups" ] || return 0
  while IFS= read -r d; do cat "$d/cgroup.procs" 2>/dev/null; done < "$S/cgroups" | sort -un
}

cleanup() {
  [ -f "$S/cgroups" ] || { echo "killed 0"; return 0; }
  killed=0
  freezer=$(grep '/freezer/' "$S/cgroups" | head -n 1)
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    pids=$(procs)
    [ -n "$pids" ] || break
    # Frozen processes cannot fork while they are being killed.
    [ -n "$freezer" ] && echo FROZEN > "$freezer/freezer.state" 2>/dev/null
    for p in $pids; do kill -9 "$p" 2>/dev/null && killed=$((killed + 1)); done
    [ -n "$freezer" ] && echo THAWED > "$freezer/freezer.state" 2>/dev/null
    # Killed while frozen, they are gone once thawed and reaped: look again soon.
    sleep 0.02
  done
  left=$(procs)
  [ -z "$left" ] || { echo "still running: $left"; exit 1; }
  while IFS= read -r d; do rmdir "$d" 2>/dev/null; done < "$S/cgroups"
  rm -f "$S/cgroups"
  echo "killed $killed"
}

# start JOB KEEP BACKEND SPEC ARGS...: runs the job once, detached from this exec,
# keeping the first KEEP bytes of stdout and of stderr (in out and err, in this
# container's own root filesystem, never under /host: the node's /tmp may be a tmpfs)
# and, in ticks, "UPTIME OUT ERR" lines: how many bytes of each there were when. The
# operator copies them into the job's recording (ADR 43), after an operator restart too.
start() {
  job=$1 keep=$2 backend=$3 spec=$4
  shift 4
  case "$backend" in runtime|nsenter) ;; *) fail "unknown backend $backend";; esac
  case "$job" in *[!0-9a-z-]*|'') fail "bad job name";; esac
  case "$keep" in *[!0-9]*|'') fail "bad byte limit";; esac
  d="$S/jobs/$job"
  [ -e "$d/started" ] && return 0
  mkdir -p "$d"
  printf '%s' "$spec" > "$d/spec"
  mkfifo "$d/o" "$d/e"
  : > "$d/out"
  : > "$d/err"
  # The start, written before the job can write anything (ticks runs beside it).
  read -r up _ < /proc/uptime
  echo "$up 0 0" > "$d/ticks"
  (
    # dd, not head: head writes through stdio, so the file would grow in buffered
    # steps and the ticks would time output late; busybox dd writes each read at once.
    (dd bs=65536 count="$keep" iflag=count_bytes > "$d/out" 2>/dev/null; wc -c > "$d/out.more") < "$d/o" &
    po=$!
    (dd bs=65536 count="$keep" iflag=count_bytes > "$d/err" 2>/dev/null; wc -c > "$d/err.more") < "$d/e" &
    pe=$!
    ticks "$d" &
    pt=$!
    ( "run_$backend" "$d/spec" "$@" ) > "$d/o" 2> "$d/e" < /dev/null
    echo $? > "$d/rc.tmp"
    wait "$po" "$pe"
    # The last tick is taken once everything is written: it holds the final sizes.
    : > "$d/drained"
    wait "$pt"
    mv "$d/rc.tmp" "$d/rc"
  ) > /dev/null 2>&1 < /dev/null &
  touch "$d/started"
}

# ticks DIR: every quarter second while the job runs, the node's uptime and the sizes
# of out and err, written only when they changed (one fork of wc and one of sleep per
# tick, only while a job runs). The first line, written by start, is the start.
ticks() {
  t=$1 fin= last="0 0"
  while :; do
    [ -e "$t/drained" ] && fin=1
    read -r up _ < /proc/uptime
    # shellcheck disable=SC2046
    set -- $(wc -c "$t/out" "$t/err")
    [ "$1 $3" = "$last" ] || { echo "$up $1 $3" >> "$t/ticks"; last="$1 $3"; }
    [ -n "$fin" ] && return 0
    sleep 0.25
  done
}

# block JOB FILE N: block N (1 MiB) of the job's out, err or ticks; nothing past its end.
block() {
  case "$1" in *[!0-9a-z-]*|'') fail "bad job name";; esac
  case "$2" in out|err|ticks) ;; *) fail "bad file $2";; esac
  case "$3" in *[!0-9]*|'') fail "bad block";; esac
  [ -f "$S/jobs/$1/$2" ] || fail "job $1 has no $2"
  dd if="$S/jobs/$1/$2" bs=1048576 skip="$3" count=1 2>/dev/null
}

# run_runtime SPEC CID RUNC_ROOT SUBCGROUP: the node's runc runs the spec in the container.
run_runtime() {
  spec=$1 cid=$2 runc_root=$3 sub=$4
  exec chroot "$H" runc --root "$runc_root" exec --process "/proc/$(cat "$S/serve.pid")/root$spec" --cgroup "$sub" "$cid"
}

# run_nsenter SPEC ENTER_ARGS...: execsession-enter joins, enters and drops privileges itself.
run_nsenter() {
  shift
  [ -s "$S/cgroups" ] || fail "the session has no cgroups; prepare first"
  cg=
  # Paths come from the kernel's /proc/PID/cgroup and hold no spaces.
  while IFS= read -r d; do cg="$cg --cgroup $d"; done < "$S/cgroups"
  # shellcheck disable=SC2086
  exec /usr/local/bin/execsession-enter $cg "$@"
}

# attach BACKEND SPEC ARGS...: the process replaces this shell, so the exec's
# stdio, terminal and exit status are the process's own.
attach() {
  backend=$1 spec=$2
  shift 2
  case "$backend" in runtime|nsenter) ;; *) fail "unknown backend $backend";; esac
  [ -s "$S/cgroups" ] || fail "the session has ended"
  mkdir -p "$S/attach"
  f=$(mktemp "$S/attach/spec.XXXXXX") || fail "cannot write the process spec"
  printf '%s' "$spec" > "$f"
  # A terminal gets its first size from the exec's resize message, which can come
  # just after the start: wait for it (at most 1 s), so the process starts with it.
  if [ -t 0 ]; then
    n=0
    while [ "$(stty size 2>/dev/null)" = "0 0" ] && [ "$n" -lt 20 ]; do sleep 0.05; n=$((n + 1)); done
  fi
  "run_$backend" "$f" "$@"
}

set_deadline() {
  case "$1" in *[!0-9]*|'') fail "bad deadline";; esac
  scratch
  echo "$1" > "$T/deadline" && mv "$T/deadline" "$S/deadline" || exit 1
  # serve sleeps until near the old deadline: wake it to read the new one.
  [ -f "$S/serve.pid" ] && kill -USR1 "$(cat "$S/serve.pid")" 2>/dev/null
  return 0
}

wait_job() {
  d="$S/jobs/$1"
  [ "$#" -ge 3 ] || fail "usage: wait JOB SECONDS LIMIT"
  case "$3" in *[!0-9]*|'') fail "bad byte limit";; esac
  [ -e "$d/started" ] || { emit_text error "job $1 was never started"; return 0; }
  end=$(( $(date +%s) + $2 ))
  while [ ! -f "$d/rc" ] && [ "$(date +%s)" -lt "$end" ]; do sleep 0.1; done
  [ -f "$d/rc" ] || { emit_text running 1; return 0; }
  scratch
  head -c "$3" "$d/out" > "$T/out"
  head -c "$3" "$d/err" > "$T/err"
  emit rc "$d/rc"
  emit stdout "$T/out"
  emit stderr "$T/err"
  emit stdout.more "$d/out.more"
  emit stderr.more "$d/err.more"
}

cmd=$1
shift
case "$cmd" in
  serve) serve "$@" ;;
  inspect) inspect "$@" ;;
  prepare) prepare "$@" ;;
  start) start "$@" ;;
  run_runtime) run_runtime "$@" ;;
  run_nsenter) run_nsenter "$@" ;;
  wait) wait_job "$@" ;;
  block) block "$@" ;;
  attach) attach "$@" ;;
  deadline) set_deadline "$@" ;;
  procs) procs ;;
  cleanup) cleanup ;;
  *) fail "unknown command $cmd" ;;
esac
`;

/** argv that runs a helper sub-command, for the pod's command or an exec. */
export function helperArgv(subcommand: string, ...args: string[]): string[] {
  return ['/bin/sh', '-c', HELPER_SCRIPT, 'execsession-helper', subcommand, ...args];
}
