/*
 * execsession-enter: the nsenter backend's one privileged step, as a small static
 * program in the helper image. It joins a session's cgroups, enters a target
 * process's namespaces (its user namespace when asked), and then, in this order,
 * sets the supplementary groups, gid and uid exactly, caps the capability bounding
 * set at the container's, clears inheritable and ambient capabilities, limits the
 * effective and permitted sets to the bounding set (which matters only for uid 0),
 * sets no_new_privs, replaces the environment, and execs the command inside the
 * container's filesystem. No tool on the node does all of that: busybox nsenter
 * clears supplementary groups, util-linux nsenter cannot set them, and setpriv
 * cannot enter namespaces.
 *
 * What it cannot carry over from the container (documented in docs/exec-backends.md):
 * the seccomp filter, the AppArmor profile or SELinux label, rlimits and oom_score_adj.
 *
 * usage: execsession-enter --pid PID [--userns] [--cgroup DIR]... --uid UID --gid GID
 *          [--groups G,G...] --capbnd HEX [--env NAME=VALUE]... -- COMMAND [ARG...]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_LIST 256

static void die(const char *what) {
  fprintf(stderr, "execsession-enter: %s: %s\n", what, strerror(errno));
  exit(126);
}

static void usage(const char *why) {
  fprintf(stderr, "execsession-enter: %s\nusage: execsession-enter --pid PID [--userns] [--cgroup DIR]... --uid UID --gid GID "
                  "[--groups G,G...] --capbnd HEX [--env NAME=VALUE]... -- COMMAND [ARG...]\n", why);
  exit(125);
}

/* A decimal id in [0, 2^31-1]; anything else is refused. */
static long parse_id(const char *s) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *s == '\0' || *end != '\0' || v < 0 || v > 2147483647L) usage("ids must be decimal numbers");
  return v;
}

/* Joins every listed cgroup: its processes, and all they fork, stay countable and killable. */
static void join_cgroups(char **dirs, int n) {
  for (int i = 0; i < n; i++) {
    char path[4096];
    if (snprintf(path, sizeof path, "%s/cgroup.procs", dirs[i]) >= (int)sizeof path) usage("cgroup path too long");
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) die(path);
    if (write(fd, "0", 1) != 1) die(path);
    close(fd);
  }
}

/* Whether the target's namespace is the one this process is in already (same inode). */
static int same_namespace(int fd, const char *name) {
  char self[64];
  struct stat a, b;
  snprintf(self, sizeof self, "/proc/self/ns/%s", name);
  return fstat(fd, &a) == 0 && stat(self, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/*
 * Enters the target's namespaces in the order util-linux nsenter uses: user first, mount last.
 * Namespaces the target shares with us (the host's cgroup namespace on cgroup v1) are
 * skipped, as nsenter does: once inside a container's user namespace, setns into a
 * namespace owned by the host's user namespace is refused (EPERM).
 */
static void enter_namespaces(long pid, int userns) {
  static const struct { const char *name; int type; } ns[] = {
    {"user", CLONE_NEWUSER}, {"cgroup", CLONE_NEWCGROUP}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},
    {"net", CLONE_NEWNET}, {"pid", CLONE_NEWPID}, {"mnt", CLONE_NEWNS},
  };
  int fds[7];
  /* Open all first: once in the target's mount namespace, /proc is the target's. */
  for (int i = 0; i < 7; i++) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/ns/%s", pid, ns[i].name);
    fds[i] = (ns[i].type == CLONE_NEWUSER && !userns) ? -1 : open(path, O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0 && ns[i].type != CLONE_NEWUSER && ns[i].type != CLONE_NEWCGROUP) die(path);
    if (fds[i] >= 0 && same_namespace(fds[i], ns[i].name)) {
      close(fds[i]);
      fds[i] = -1;
    }
  }
  for (int i = 0; i < 7; i++) {
    if (fds[i] < 0) continue;
    if (setns(fds[i], ns[i].type) != 0) die(ns[i].name);
    close(fds[i]);
  }
  if (chdir("/") != 0) die("chdir /");
}

static int capset_raw(uint64_t effective, uint64_t permitted, uint64_t inheritable) {
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {
    {(uint32_t)effective, (uint32_t)permitted, (uint32_t)inheritable},
    {(uint32_t)(effective >> 32), (uint32_t)(permitted >> 32), (uint32_t)(inheritable >> 32)},
  };
  return (int)syscall(SYS_capset, &hdr, data);
}

/* Drops to exactly the session's identity, never above the container's capabilities. */
static void drop_privileges(uid_t uid, gid_t gid, gid_t *groups, int ngroups, uint64_t capbnd) {
  if (setgroups((size_t)ngroups, groups) != 0) die("setgroups");
  if (setresgid(gid, gid, gid) != 0) die("setresgid");
  for (int cap = 0; cap <= 63; cap++) {
    if (capbnd & (1ULL << cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) die("PR_CAPBSET_DROP");
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) die("PR_CAP_AMBIENT_CLEAR_ALL");
  /* Keep only what the bounding set allows, so uid 0 gets no more than the container's root. */
  if (capset_raw(capbnd, capbnd, 0) != 0) die("capset");
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) die("PR_SET_KEEPCAPS");
  if (setresuid(uid, uid, uid) != 0) die("setresuid");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die("PR_SET_NO_NEW_PRIVS");
}

static int parse_groups(char *csv, gid_t *out) {
  int n = 0;
  for (char *tok = strtok(csv, ","); tok; tok = strtok(NULL, ",")) {
    if (n == MAX_LIST) usage("too many groups");
    out[n++] = (gid_t)parse_id(tok);
  }
  return n;
}

/* The parent waits and exits with the child's status, so callers see the command's exit code. */
static void wait_and_exit(pid_t child) {
  int status;
  signal(SIGINT, SIG_IGN);
  signal(SIGQUIT, SIG_IGN);
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) die("waitpid");
  }
  if (WIFEXITED(status)) exit(WEXITSTATUS(status));
  exit(128 + WTERMSIG(status));
}

int main(int argc, char **argv) {
  static struct option opts[] = {
    {"pid", required_argument, 0, 'p'}, {"userns", no_argument, 0, 'U'}, {"cgroup", required_argument, 0, 'c'},
    {"uid", required_argument, 0, 'u'}, {"gid", required_argument, 0, 'g'}, {"groups", required_argument, 0, 'G'},
    {"capbnd", required_argument, 0, 'b'}, {"env", required_argument, 0, 'e'}, {0, 0, 0, 0},
  };
  long pid = -1, uid = -1, gid = -1;
  int userns = 0, ncg = 0, nenv = 0, ngroups = 0, have_capbnd = 0;
  char *cgroups[MAX_LIST], *env[MAX_LIST + 1];
  gid_t groups[MAX_LIST];
  uint64_t capbnd = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
    switch (c) {
      case 'p': pid = parse_id(optarg); break;
      case 'U': userns = 1; break;
      case 'c': if (ncg == MAX_LIST) usage("too many cgroups"); cgroups[ncg++] = optarg; break;
      case 'u': uid = parse_id(optarg); break;
      case 'g': gid = parse_id(optarg); break;
      case 'G': ngroups = parse_groups(optarg, groups); break;
      case 'b': {
        char *end;
        capbnd = strtoull(optarg, &end, 16);
        if (*optarg == '\0' || *end != '\0') usage("--capbnd must be hexadecimal, as CapBnd in /proc/PID/status");
        have_capbnd = 1;
        break;
      }
      case 'e': if (nenv == MAX_LIST || !strchr(optarg, '=')) usage("--env takes NAME=VALUE"); env[nenv++] = optarg; break;
      default: usage("unknown option");
    }
  }
  if (pid <= 0 || uid < 0 || gid < 0 || !have_capbnd) usage("--pid, --uid, --gid and --capbnd are required");
  if (optind >= argc) usage("no command given");
  env[nenv] = NULL;

  join_cgroups(cgroups, ncg);
  enter_namespaces(pid, userns);
  /* A new pid namespace applies to children only. */
  pid_t child = fork();
  if (child < 0) die("fork");
  if (child > 0) wait_and_exit(child);
  drop_privileges((uid_t)uid, (gid_t)gid, groups, ngroups, capbnd);
  if (clearenv() != 0) die("clearenv");
  for (int i = 0; i < nenv; i++) {
    if (putenv(env[i]) != 0) die("putenv");
  }
  execvp(argv[optind], argv + optind);
  fprintf(stderr, "execsession-enter: cannot run %s: %s\n", argv[optind], strerror(errno));
  return 127;
}
