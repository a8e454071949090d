/*
 * ledgerflow-spawner: the local backend's supervisor spawner (spawner.ts) in one small process.
 * It does what spawnerProcess.js does, with the same semantics: for each request, make the
 * job's cgroups and write their limits, start the supervisor detached (own session, stdio on
 * /dev/null), write its pid file (temp file and rename) before saying it started, and once it
 * exited remove its groups (retrying a busy one after 1, 2, 4 .. 50 ms, about a second in all)
 * before saying so. Why C: a node process forking copies its page tables (0.5-1.5 ms of CPU
 * a job in the helper, measured); this one forks in ~0.05 ms. When its stdin ends (the host
 * is gone, kill -9 included) it exits; the supervisors, in sessions of their own, run on.
 *
 * Requests on stdin: a decimal byte count and a newline, then that many bytes of
 * NUL-terminated fields: id, file, cwd, pid file ("" for none), then four counted lists:
 * args, env ("K=V"), cgroup dirs, and limit writes (file, value pairs).
 * Replies on stdout, one line each: `pid ID PID`, `error ID MESSAGE`, `exited ID 0|1`
 * (1: a group stayed busy and is left).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REMOVE_WAIT_MS 1000
#define MAX_REQUEST (16 * 1024 * 1024)

struct job {
  long long id;
  pid_t pid; /* 0 once reaped */
  char **dirs;
  int ndirs;
  int next_dir;       /* the group being removed */
  int waited, wait;   /* ms waited on it so far, and the next wait */
  long long retry_at; /* when to try it again; 0: not removing */
  int left;           /* a group stayed busy */
};

static struct job *jobs;
static int njobs, capjobs;

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void reply(const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if (n > (int)sizeof line - 2) n = (int)sizeof line - 2;
  for (int i = 0; i < n; i++)
    if (line[i] == '\n') line[i] = ' ';
  line[n++] = '\n';
  for (int off = 0; off < n;) {
    ssize_t w = write(1, line + off, (size_t)(n - off));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) exit(0); /* the host is gone */
    off += (int)w;
  }
}

static void free_job(struct job *j) {
  for (int i = 0; i < j->ndirs; i++) free(j->dirs[i]);
  free(j->dirs);
  *j = jobs[--njobs];
}

/* rmdir; 1 when gone (or an error that trying again would not fix), 0 while busy. */
static int removed(const char *d) { return rmdir(d) == 0 || errno != EBUSY; }

static void remove_now(char **dirs, int n) {
  for (int i = 0; i < n; i++) removed(dirs[i]);
}

/* Advances a reaped job's removals; replies and frees it once done. 1 when freed. */
static int step_removal(struct job *j, long long now) {
  while (j->next_dir < j->ndirs) {
    if (j->retry_at > now) return 0;
    if (removed(j->dirs[j->next_dir]) || j->waited >= REMOVE_WAIT_MS) {
      if (j->waited >= REMOVE_WAIT_MS && !removed(j->dirs[j->next_dir])) j->left = 1;
      j->next_dir++;
      j->waited = 0;
      j->wait = 1;
      j->retry_at = now;
      continue;
    }
    j->retry_at = now + j->wait;
    j->waited += j->wait;
    j->wait = j->wait * 2 > 50 ? 50 : j->wait * 2;
    return 0;
  }
  reply("exited %lld %d", j->id, j->left);
  free_job(j);
  return 1;
}

static int write_file(const char *file, const char *value) {
  int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) return -1;
  size_t n = strlen(value);
  ssize_t w = write(fd, value, n);
  int e = errno;
  close(fd);
  if (w != (ssize_t)n) {
    errno = w < 0 ? e : EIO;
    return -1;
  }
  return 0;
}

/* As writeTextVisibleSync (jobDir.ts): a reader sees no pid or the whole pid. */
static int write_pid_file(const char *file, pid_t pid) {
  char tmp[PATH_MAX], text[32];
  const char *slash = strrchr(file, '/');
  int dirlen = slash == NULL ? 0 : (int)(slash - file + 1);
  const char *base = file + dirlen;
  unsigned long long r = ((unsigned long long)now_ms() << 20) ^ ((unsigned long long)getpid() << 8) ^ (unsigned long long)pid;
  if (snprintf(tmp, sizeof tmp, "%.*s.%s.%012llx.tmp", dirlen, file, base, r & 0xffffffffffffULL) >= (int)sizeof tmp) {
    errno = ENAMETOOLONG;
    return -1;
  }
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  int n = snprintf(text, sizeof text, "%d\n", (int)pid);
  ssize_t w = write(fd, text, (size_t)n);
  int e = errno;
  close(fd);
  if (w != n || rename(tmp, file) != 0) {
    e = w != n ? (w < 0 ? e : EIO) : errno;
    unlink(tmp);
    errno = e;
    return -1;
  }
  return 0;
}

/* Fields of one request, in order; NULL past the end. */
struct fields {
  char *p, *end;
};
static char *field(struct fields *f) {
  if (f->p >= f->end) return NULL;
  char *s = f->p;
  char *nul = memchr(s, '\0', (size_t)(f->end - s));
  if (nul == NULL) return NULL;
  f->p = nul + 1;
  return s;
}
static int count(struct fields *f) {
  char *s = field(f), *e;
  if (s == NULL) return -1;
  long v = strtol(s, &e, 10);
  return *e != '\0' || v < 0 || v > 65536 ? -1 : (int)v;
}
/* A counted list as a NULL-terminated array pointing into the request. */
static char **list(struct fields *f, int per, int *n) {
  int c = count(f);
  if (c < 0) return NULL;
  char **v = calloc((size_t)c * per + 1, sizeof *v);
  if (v == NULL) return NULL;
  for (int i = 0; i < c * per; i++)
    if ((v[i] = field(f)) == NULL) {
      free(v);
      return NULL;
    }
  *n = c;
  return v;
}

static void start(char *req, size_t len, const sigset_t *blocked) {
  struct fields f = {req, req + len};
  char *ids = field(&f), *file = field(&f), *cwd = field(&f), *pid_file = field(&f);
  int nargs = 0, nenv = 0, ndirs = 0, nwrites = 0;
  char **args = NULL, **env = NULL, **dirs = NULL, **writes = NULL;
  if (ids == NULL || file == NULL || cwd == NULL || pid_file == NULL || (args = list(&f, 1, &nargs)) == NULL ||
      (env = list(&f, 1, &nenv)) == NULL || (dirs = list(&f, 1, &ndirs)) == NULL || (writes = list(&f, 2, &nwrites)) == NULL) {
    free(args), free(env), free(dirs);
    return; /* as the node helper: a request it cannot read is dropped */
  }
  long long id = strtoll(ids, NULL, 10);
  char **argv = calloc((size_t)nargs + 2, sizeof *argv);
  if (argv == NULL) goto out;
  argv[0] = file;
  memcpy(argv + 1, args, (size_t)nargs * sizeof *argv);

  for (int i = 0; i < ndirs; i++)
    if (mkdir(dirs[i], 0777) != 0 && errno != EEXIST) {
      reply("error %lld %s: %s", id, dirs[i], strerror(errno));
      remove_now(dirs, ndirs);
      goto out;
    }
  for (int i = 0; i < nwrites; i++)
    if (write_file(writes[2 * i], writes[2 * i + 1]) != 0) {
      reply("error %lld %s: %s", id, writes[2 * i], strerror(errno));
      remove_now(dirs, ndirs);
      goto out;
    }

  /* The child says why exec failed through a pipe that exec closes. */
  int ep[2];
  if (pipe2(ep, O_CLOEXEC) != 0) {
    reply("error %lld pipe: %s", id, strerror(errno));
    remove_now(dirs, ndirs);
    goto out;
  }
  pid_t pid = fork();
  if (pid == 0) {
    close(ep[0]);
    sigprocmask(SIG_UNBLOCK, blocked, NULL);
    signal(SIGPIPE, SIG_DFL);
    int null = open("/dev/null", O_RDWR);
    int e = 0;
    if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0 || setsid() < 0 || chdir(cwd) != 0) e = errno;
    if (e == 0) {
      if (null > 2) close(null);
      execve(file, argv, env);
      e = errno;
    }
    ssize_t ignored = write(ep[1], &e, sizeof e);
    (void)ignored;
    _exit(127);
  }
  close(ep[1]);
  if (pid < 0) {
    close(ep[0]);
    reply("error %lld fork: %s", id, strerror(errno));
    remove_now(dirs, ndirs);
    goto out;
  }
  int e = 0;
  ssize_t r;
  do r = read(ep[0], &e, sizeof e);
  while (r < 0 && errno == EINTR);
  close(ep[0]);

  if (njobs == capjobs) {
    capjobs = capjobs == 0 ? 64 : capjobs * 2;
    struct job *more = realloc(jobs, (size_t)capjobs * sizeof *jobs);
    if (more == NULL) abort();
    jobs = more;
  }
  struct job *j = &jobs[njobs++];
  memset(j, 0, sizeof *j);
  j->id = id;
  j->pid = pid;
  j->wait = 1;
  j->ndirs = ndirs;
  j->dirs = calloc((size_t)ndirs + 1, sizeof *j->dirs);
  if (j->dirs == NULL) abort();
  for (int i = 0; i < ndirs; i++)
    if ((j->dirs[i] = strdup(dirs[i])) == NULL) abort();

  if (r > 0) {
    /* Could not start: reaped with the others; its groups go then, with no exit said. */
    reply("error %lld spawn %s: %s", id, file, strerror(e));
    j->id = -1;
  } else if (*pid_file != '\0' && write_pid_file(pid_file, pid) != 0) {
    /* As a host that could not write it would: the supervisor runs on, the start failed. */
    reply("error %lld %s: %s", id, pid_file, strerror(errno));
  } else {
    reply("pid %lld %d", id, (int)pid);
  }
out:
  free(argv);
  free(args);
  free(env);
  free(dirs);
  free(writes);
}

int main(int argc, char **argv) {
  (void)argc;
  (void)argv;
  signal(SIGPIPE, SIG_IGN);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) return 1;
  fcntl(0, F_SETFD, FD_CLOEXEC);
  fcntl(1, F_SETFD, FD_CLOEXEC);

  size_t cap = 65536, have = 0;
  char *buf = malloc(cap);
  if (buf == NULL) return 1;
  int input = 1;
  for (;;) {
    long long now = now_ms(), next = -1;
    for (int i = 0; i < njobs;) {
      struct job *j = &jobs[i];
      if (j->pid == 0 && step_removal(j, now)) continue; /* freed: jobs[i] is another now */
      if (j->pid == 0 && (next < 0 || j->retry_at < next)) next = j->retry_at;
      i++;
    }
    if (!input) return 0;
    struct pollfd fds[2] = {{.fd = 0, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
    int timeout = next < 0 ? -1 : (int)(next > now ? next - now : 0);
    if (poll(fds, 2, timeout) < 0 && errno != EINTR) return 1;

    if (fds[1].revents & POLLIN) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) > 0) {
      }
      int status;
      pid_t pid;
      while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
        for (int i = 0; i < njobs; i++)
          if (jobs[i].pid == pid) {
            jobs[i].pid = 0;
            jobs[i].retry_at = now_ms();
            if (jobs[i].id < 0) { /* never started: groups go, nothing more to say */
              remove_now(jobs[i].dirs, jobs[i].ndirs);
              free_job(&jobs[i]);
            }
            break;
          }
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      if (have == cap) {
        cap *= 2;
        if (cap > MAX_REQUEST + 32) return 1;
        char *more = realloc(buf, cap);
        if (more == NULL) return 1;
        buf = more;
      }
      ssize_t r = read(0, buf + have, cap - have);
      if (r < 0 && errno != EINTR && errno != EAGAIN) return 1;
      if (r == 0) input = 0; /* the host is gone */
      if (r > 0) have += (size_t)r;
      /* Every complete request in the buffer. */
      for (;;) {
        char *nl = memchr(buf, '\n', have);
        if (nl == NULL) break;
        char *e;
        unsigned long len = strtoul(buf, &e, 10);
        if (e != nl || len > MAX_REQUEST) return 1;
        size_t head = (size_t)(nl - buf) + 1;
        if (have < head + len) break;
        start(buf + head, len, &chld);
        memmove(buf, buf + head + len, have - head - len);
        have -= head + len;
      }
    }
  }
}
