/*
 * ledgerflow-job: the per-job supervisor of the local compute backend in one process. It does
 * what the /bin/sh supervisor (supervisor.ts, the fallback where no C compiler built this) and,
 * for a root host, the stage (sandbox.ts stageScript: unshare, sh, mount, setpriv) do, with the
 * same arguments, files and semantics, without the dozen programs they exec for each job.
 * See supervisor.ts for what each file means and why; this file only says how.
 *
 * ledgerflow-job DIR LIMIT MEM LOGMAX FSIZE NPROC PROCS QUOTA WS STAGE... PROGRAM ARGS...
 *   STAGE is `-` (run PROGRAM as this process's user) or
 *   `stage UID GID RUNDIR N SRC1 POINT1 ... SRCN POINTN`: in a private mount namespace, bind
 *   each SRC onto its POINT, the run dir (recursively) over /tmp, then become UID:GID with no
 *   groups, no capabilities (bounding, inheritable and ambient sets emptied) and no_new_privs.
 *
 * Nothing here parses what the job writes: its output is copied, counted and dropped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* As supervisor.ts LOG_INDEX and the sh supervisor. */
#define FIRST_TICK_MS 200
#define ENTRIES_PER_LEVEL 512
#define MAX_ENTRIES 8192
#define QUOTA_EVERY_MS 1000

static const char *dir;

static long long parse_num(const char *s) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < 0) {
    fprintf(stderr, "ledgerflow-job: not a number: %s\n", s);
    exit(2);
  }
  return v;
}

static void path_in(char *out, const char *name) {
  if (snprintf(out, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX) {
    fprintf(stderr, "ledgerflow-job: path too long\n");
    exit(2);
  }
}

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* `: >file` */
static void touch(const char *name) {
  char p[PATH_MAX];
  path_in(p, name);
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd >= 0) close(fd);
}

static int write_all(int fd, const char *buf, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, buf, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    buf += w;
    n -= (size_t)w;
  }
  return 0;
}

/* exit.json through a temp file of this writer's own and a rename, retried every second while
 * the disk refuses it, given up once the job dir is gone (the run was purged). */
static void record(int code, const char *tag) {
  char tmp[PATH_MAX], dst[PATH_MAX], name[64], line[64];
  snprintf(name, sizeof name, ".exit-%s.tmp", tag);
  path_in(tmp, name);
  path_in(dst, "exit.json");
  int n = snprintf(line, sizeof line, "{\"exitCode\":%d}\n", code);
  for (;;) {
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd >= 0) {
      int ok = write_all(fd, line, (size_t)n) == 0;
      if (close(fd) != 0) ok = 0;
      if (ok && rename(tmp, dst) == 0) return;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) return;
    sleep(1);
  }
}

static void die_all(void) {
  kill(0, SIGKILL);
  _exit(137);
}

/* In the child, before the sandbox program: a message on the job's log and out. */
static void fail(const char *what) {
  dprintf(2, "ledgerflow-job: %s: %s\n", what, strerror(errno));
  _exit(1);
}

static void set_limit(int resource, long long value) {
  struct rlimit r = {(rlim_t)value, (rlim_t)value};
  if (setrlimit(resource, &r) != 0) dprintf(2, "ledgerflow-job: setrlimit: %s\n", strerror(errno));
}

/* setpriv --reuid --regid --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs */
static void drop_to(uid_t uid, gid_t gid) {
  for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) fail("dropping the bounding set");
  if (setgroups(0, NULL) != 0) fail("setgroups");
  if (setresgid(gid, gid, gid) != 0) fail("setresgid");
  if (setresuid(uid, uid, uid) != 0) fail("setresuid");
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct none[2];
  memset(none, 0, sizeof none);
  if (syscall(SYS_capset, &header, none) != 0) fail("capset");
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) fail("clearing ambient capabilities");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail("no_new_privs");
  uid_t r, e, s;
  gid_t rg, eg, sg;
  if (getresuid(&r, &e, &s) != 0 || r != uid || e != uid || s != uid || getresgid(&rg, &eg, &sg) != 0 || rg != gid || eg != gid || sg != gid ||
      getgroups(0, NULL) != 0) {
    errno = EPERM;
    fail("dropping to the job user");
  }
}

struct stage {
  uid_t uid;
  gid_t gid;
  const char *run_dir;
  int binds;
  char **pairs; /* src, point, src, point, ... */
};

static void enter_stage(const struct stage *st) {
  if (unshare(CLONE_NEWNS) != 0) fail("unshare");
  if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) fail("private propagation");
  for (int i = 0; i < st->binds; i++)
    if (mount(st->pairs[2 * i], st->pairs[2 * i + 1], NULL, MS_BIND, NULL) != 0) fail("binding a dataset");
  if (mount(st->run_dir, "/tmp", NULL, MS_BIND | MS_REC, NULL) != 0) fail("binding the run");
  drop_to(st->uid, st->gid);
}

/* The job's side: its cgroups, rlimits, descriptors, the stage, then the sandbox program. */
static void run_job(int out, char *procs, long long mem, long long nproc, long long fsize, const struct stage *st, char **program) {
  int null = open("/dev/null", O_RDONLY);
  if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0) fail("descriptors");
  if (null > 2) close(null);
  if (procs != NULL) {
    /* Not in its groups, the job would run without their limits: it does not run. */
    for (char *f = strtok(procs, " "); f != NULL; f = strtok(NULL, " ")) {
      int fd = open(f, O_WRONLY | O_CLOEXEC);
      if (fd < 0 || write_all(fd, "0\n", 2) != 0) {
        dprintf(2, "ledgerflow-job: joining the job's cgroup %s: %s\n", f, strerror(errno));
        _exit(1);
      }
      close(fd);
    }
  }
  if (mem > 0) set_limit(RLIMIT_AS, mem * 1024);
  if (nproc > 0) set_limit(RLIMIT_NPROC, nproc);
  set_limit(RLIMIT_FSIZE, fsize * 512);
  char args[PATH_MAX];
  path_in(args, "sandbox.args");
  int fd3 = open(args, O_RDONLY);
  if (fd3 < 0 && errno != ENOENT) fail("sandbox.args");
  if (fd3 >= 0 && fd3 != 3) {
    if (dup2(fd3, 3) < 0) fail("sandbox.args");
    close(fd3);
  }
  if (st != NULL) enter_stage(st);
  execvp(program[0], program);
  dprintf(2, "ledgerflow-job: %s: %s\n", program[0], strerror(errno));
  _exit(127);
}

/* `du -sk WS`, as the sh supervisor runs it: KiB used, or -1. */
static long long disk_used(const char *ws) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(p[1], 1);
    if (null >= 0) dup2(null, 2);
    execlp("du", "du", "-sk", ws, (char *)NULL);
    _exit(127);
  }
  close(p[1]);
  char buf[64];
  size_t have = 0;
  ssize_t n;
  while (have < sizeof buf - 1 && ((n = read(p[0], buf + have, sizeof buf - 1 - have)) > 0 || (n < 0 && errno == EINTR)))
    if (n > 0) have += (size_t)n;
  close(p[0]);
  if (pid > 0) waitpid(pid, NULL, 0);
  buf[have] = '\0';
  if (have == 0 || buf[0] < '0' || buf[0] > '9') return -1;
  return strtoll(buf, NULL, 10);
}

/* log.index: `<size> <mtime s.ns>` when the log grew since the last entry. */
static void sample(long long *last, int *entries) {
  char log[PATH_MAX], index[PATH_MAX], line[96];
  struct stat st;
  path_in(log, "log");
  if (stat(log, &st) != 0 || (long long)st.st_size == *last) return;
  path_in(index, "log.index");
  int fd = open(index, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
  if (fd < 0) return;
  int n = snprintf(line, sizeof line, "%lld %lld.%09ld\n", (long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  int ok = write_all(fd, line, (size_t)n) == 0;
  close(fd);
  if (!ok) return;
  *last = (long long)st.st_size;
  (*entries)++;
}

/* A memory cgroup of the job that killed a process for want of memory (v1 or v2 file). */
static int oom_killed(const char *procs_file) {
  static const char *files[] = {"memory.oom_control", "memory.events"};
  size_t len = strlen(procs_file);
  const char *suffix = "/cgroup.procs";
  if (len < strlen(suffix) || strcmp(procs_file + len - strlen(suffix), suffix) != 0) return 0;
  for (int i = 0; i < 2; i++) {
    char p[PATH_MAX], key[64];
    long long value;
    if (snprintf(p, sizeof p, "%.*s/%s", (int)(len - strlen(suffix)), procs_file, files[i]) >= (int)sizeof p) continue;
    FILE *f = fopen(p, "re");
    if (f == NULL) continue;
    int found = 0;
    while (fscanf(f, "%63s %lld", key, &value) == 2)
      if (strcmp(key, "oom_kill") == 0 && value > 0) found = 1;
    fclose(f);
    if (found) return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 12) {
    fprintf(stderr, "usage: ledgerflow-job DIR LIMIT MEM LOGMAX FSIZE NPROC PROCS QUOTA WS STAGE... PROGRAM ARGS...\n");
    return 2;
  }
  dir = argv[1];
  long long limit = parse_num(argv[2]), mem = parse_num(argv[3]), logmax = parse_num(argv[4]), fsize = parse_num(argv[5]),
            nproc = parse_num(argv[6]), quota = parse_num(argv[8]);
  const char *procs_arg = strcmp(argv[7], "-") == 0 ? NULL : argv[7];
  const char *ws = argv[9];
  int next = 10;
  struct stage stage, *st = NULL;
  if (strcmp(argv[next], "stage") == 0) {
    if (argc < next + 6) return 2;
    stage.uid = (uid_t)parse_num(argv[next + 1]);
    stage.gid = (gid_t)parse_num(argv[next + 2]);
    stage.run_dir = argv[next + 3];
    long long binds = parse_num(argv[next + 4]);
    if (binds > 4096 || argc < next + 5 + 2 * binds + 1) return 2;
    stage.binds = (int)binds;
    stage.pairs = argv + next + 5;
    next += 5 + 2 * (int)binds;
    st = &stage;
  } else if (strcmp(argv[next], "-") == 0) {
    next++;
  } else {
    return 2;
  }
  if (next >= argc) return 2;
  /* strtok writes into its string: the job's copy, not argv (which /proc shows). */
  char *procs = procs_arg == NULL ? NULL : strdup(procs_arg);
  char *procs_copy = procs_arg == NULL ? NULL : strdup(procs_arg);

  char logpath[PATH_MAX];
  path_in(logpath, "log");
  int log = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return 1;
  long long start = now_ms();
  pid_t child = fork();
  if (child < 0) return 1;
  if (child == 0) run_job(p[1], procs, mem, nproc, fsize, st, argv + next);
  close(p[1]);
  /* Readable once the child has exited: its exit is seen as soon as its output ends, which
   * may be a moment before or after. */
  int pidfd = (int)syscall(SYS_pidfd_open, child, 0);

  long long limit_at = start + limit * 1000, sample_at = start + FIRST_TICK_MS, quota_at = start + FIRST_TICK_MS + QUOTA_EVERY_MS;
  long long tick = FIRST_TICK_MS, kept = 0, dropped = 0, last_size = -1;
  int entries = 0, eof = 0, reaped = 0, status = 0;
  static char buf[65536];
  while (!eof || !reaped) {
    long long now = now_ms();
    if (now >= limit_at) {
      touch("timed-out");
      record(137, "limit");
      die_all();
    }
    if (entries < MAX_ENTRIES && now >= sample_at) {
      int before = entries;
      sample(&last_size, &entries);
      if (entries != before && entries % ENTRIES_PER_LEVEL == 0) tick *= 2;
      sample_at = now + tick;
    }
    if (quota > 0 && now >= quota_at) {
      long long used = disk_used(ws);
      if (used > quota) {
        touch("disk-quota");
        record(137, "quota");
        die_all();
      }
      quota_at = now_ms() + QUOTA_EVERY_MS;
    }
    if (!reaped && waitpid(child, &status, WNOHANG) == child) {
      reaped = 1;
      if (pidfd >= 0) close(pidfd);
      if (eof) break;
    }
    long long due = limit_at;
    if (entries < MAX_ENTRIES && sample_at < due) due = sample_at;
    if (quota > 0 && quota_at < due) due = quota_at;
    long long wait = due - now_ms();
    /* Without a pidfd (before Linux 5.3) the child's exit is looked for every 2 ms once its
     * output has ended. */
    if (eof && pidfd < 0 && wait > 2) wait = 2;
    if (wait < 0) wait = 0;
    struct pollfd fds[2];
    nfds_t nfds = 0;
    int out_at = -1;
    if (!eof) {
      fds[nfds] = (struct pollfd){p[0], POLLIN, 0};
      out_at = (int)nfds++;
    }
    if (!reaped && pidfd >= 0) fds[nfds++] = (struct pollfd){pidfd, POLLIN, 0};
    int ready = poll(fds, nfds, (int)(wait > INT_MAX ? INT_MAX : wait));
    if (ready <= 0 || out_at < 0 || fds[out_at].revents == 0) continue;
    ssize_t n = read(p[0], buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      n = 0;
    }
    if (n == 0) {
      eof = 1;
      close(p[0]);
      continue;
    }
    long long room = logmax - kept, keep = n < room ? n : room;
    if (keep > 0 && log >= 0) write_all(log, buf, (size_t)keep);
    if (keep > 0) kept += keep;
    dropped += n - keep;
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 137;
  if (dropped > 0 && log >= 0) dprintf(log, "\n[ledgerflow: %lld more bytes of output dropped: the log is capped at %lld bytes]\n", dropped, logmax);
  if (log >= 0) close(log);
  if (procs_copy != NULL)
    for (char *f = strtok(procs_copy, " "); f != NULL; f = strtok(NULL, " "))
      if (oom_killed(f)) touch("oom");
  record(code, "end");
  die_all();
}
