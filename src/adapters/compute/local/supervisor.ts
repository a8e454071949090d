import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { builtProgram } from './builtProgram';
import { JOB_FILES } from './jobDir';
import { withStage, type StagedSandbox } from './sandbox';

/**
 * The per-job supervisor. Two programs do the same, with the same arguments, files and
 * semantics: ledgerflow-job, a small C program built beside this file by `npm run build`
 * where a C compiler is found (ledgerflow-job.c), and the /bin/sh script below where none is.
 * The C program is one process doing the work of the shell's ~12 (the shell, its subshells,
 * `sleep`, `head`, `wc`, `mv` and, for a root host, the stage's `unshare`, shell, `mount` and
 * `setpriv`): each is a fork and an exec of ~0.5-1 ms of CPU on a small VM, about half of what
 * a trivial job costs the machine. No library does this (node costs ~40 ms a start, see below;
 * util-linux and coreutils are these programs); nothing in it parses the job's output.
 *
 * The shell one: a few lines of /bin/sh, started detached (own session and
 * process group) so it outlives the host. It runs the sandbox under the job's limits,
 * enforces the time limit, and records the exit code in exit.json; after a host crash or
 * `kill -9`, a new backend reads the outcome from there. Shell rather than a node script:
 * starting node would cost ~40 ms a job, more than the sandbox itself.
 *
 * Everything of the job stays in the supervisor's process group, including the pid
 * namespace's init, so one SIGKILL to the group ends it all at once; the kernel then
 * kills every process inside the namespace. The supervisor sends that signal itself when
 * the job ends (taking the watchdog with it) or times out; cancel() sends it from the
 * host. No traps: signal handlers in sh race with the processes they manage.
 *
 * The job's output reaches the log through a pipe, so the job never holds a descriptor
 * naming a host path, and the log keeps at most its first `logmax` bytes, then a marker
 * saying how much was dropped. head runs unbuffered (stdbuf -o0): its stdio would hold up
 * to 4 KiB of a slow job's output until it exits, and a follower (and the log's times) would
 * see nothing until then; the bytes are the same. Where the host finds stdbuf's library,
 * head is started with it preloaded directly, as stdbuf would, which saves stdbuf's own exec
 * (~0.7 ms of CPU a job). Not through the environment: the sandbox's pid 1 (bwrap) shows the
 * supervisor's environment to the job. Before the sandbox starts, the job's subshell joins its
 * cgroups (the files listed in `procs`, as root, before the job user is taken on; a job that
 * cannot join them does not run, exit code 1) and sets the rlimits that stand in where there
 * are none.
 *
 * Arguments: job dir, time limit (s), memory limit (KiB, 0 for none: address space, used
 * only without a memory cgroup), log cap (bytes), file size limit (512-byte blocks), max
 * processes (0 for none: RLIMIT_NPROC, used only without a pids cgroup), cgroup.procs files
 * (space-separated, `-` for none), workspace quota (KiB, 0 for none) and workspace dir,
 * then the sandbox program and its arguments; `<job dir>/sandbox.args`, if present, is its
 * descriptor 3. Files it writes in the job dir: log, the markers timed-out, disk-quota and oom
 * (its memory cgroup killed a process), exit.json (its mtime is the end time); the shell one
 * also `status`, the sandbox's exit code on its way through the pipeline (a file creation
 * the C one does without: a new file costs ~0.06 ms of CPU here, and several times that on an
 * ext4 without a journal where many files were deleted in the last minutes, whose inodes
 * the allocator then reads and skips one by one).
 *
 * Log times (log.index): the log holds no time, and nothing may be added to it (its sha256 is
 * what the ledger records), so a sampler beside the job, on this trusted side, stats the log
 * every `tick` and, when it grew, appends `<size> <mtime, s.ns>` to log.index: every byte
 * before <size> was written by <mtime> (the kernel sets mtime before it appends, so the pair is
 * never ahead of the data), every byte after the previous entry's size after that entry's
 * time. The job never sees the index or its path (its output goes through head's pipe) and can
 * only decide whether the log grew in a tick: it cannot write into the index, forge an entry,
 * slow the sampler (a stat does not wait on the pipe) or grow the index faster than one entry
 * a tick. Under steady output the tick doubles every `level` entries (chunks coalesce: times
 * keep the resolution of the tick that took them) and the sampler stops at `maxentries`, so the
 * index is at most maxentries lines of a few dozen bytes whatever the job writes; bytes after
 * its last entry take the log's own mtime (src/core/logTimes.ts). A sampler killed mid-append
 * leaves a partial last line, which the reader drops. The cost is two short processes a tick
 * (sleep and stat) per running job, none for a job that ends within its first tick.
 *
 * exit.json is written to a temp file and renamed into place (one `mv`), so a reader sees no
 * file or the whole record, never an empty one. On a full disk the write fails; the
 * supervisor then stays alive and tries again every second, so the job reads as still
 * running (not as "ended without recording") until the record is down; it gives up only when
 * the job dir itself is gone (the run was purged), as nobody is left to read it. Each writer (end,
 * time limit, disk quota) uses its own temp name: they may write at once.
 */
/** The sampler's bounds (see above): ticks of 200 ms, doubling every 512 entries (a multiple
 * of 100 ms, as the script formats it), at most 8,192 entries (under 320 KiB). */
export const LOG_INDEX = { firstTickMs: 200, entriesPerLevel: 512, maxEntries: 8192 } as const;

/** The first tick, as sleep(1) takes it: the supervisor's one background process until then. */
const GATE = `${LOG_INDEX.firstTickMs / 1000}`;

const script = (unbufferedHead: string): string => `
dir=$1; limit=$2; mem=$3; logmax=$4; fsize=$5; nproc=$6; procs=$7; quota=$8; ws=$9; shift 9
record() { until printf '{"exitCode":%d}\\n' "$1" >"$dir/.exit-$2.tmp" && mv -f "$dir/.exit-$2.tmp" "$dir/exit.json"; do [ -d "$dir" ] || return 0; sleep 1; done; }
( sleep ${GATE}
  ( rest=$((limit * 1000 - ${LOG_INDEX.firstTickMs})); sleep "$((rest / 1000)).$((rest % 1000 / 100))"
    : >"$dir/timed-out"; record 137 limit; kill -KILL 0 ) &
  ( n=0; ms=${LOG_INDEX.firstTickMs}; last=-1
    while [ "$n" -lt ${LOG_INDEX.maxEntries} ]; do
      set -- $(stat -c '%s %.9Y' "$dir/log")
      if [ -n "$2" ] && [ "$1" != "$last" ]; then
        printf '%s %s\\n' "$1" "$2" >>"$dir/${JOB_FILES.logIndex}"; last=$1; n=$((n + 1))
        if [ $((n % ${LOG_INDEX.entriesPerLevel})) -eq 0 ]; then ms=$((ms * 2)); fi
      fi
      sleep "$((ms / 1000)).$((ms % 1000 / 100))" || break
    done ) &
  if [ "$quota" -gt 0 ]; then
    ( while sleep 1; do
        used=$(du -sk "$ws" 2>/dev/null); used=\${used%%[!0-9]*}
        if [ "\${used:-0}" -gt "$quota" ]; then : >"$dir/disk-quota"; record 137 quota; kill -KILL 0; fi
      done ) &
  fi ) 2>/dev/null &
{ ( if [ "$procs" != - ]; then for f in $procs; do echo 0 >"$f" || exit 1; done; fi
    if [ "$mem" -gt 0 ]; then ulimit -v "$mem"; fi
    if [ "$nproc" -gt 0 ]; then ulimit -u "$nproc"; fi
    ulimit -f "$fsize"
    if [ -e "$dir/sandbox.args" ]; then exec 3<"$dir/sandbox.args"; fi
    exec "$@" ) </dev/null 2>&1
  echo $? >"$dir/status"; } | { ${unbufferedHead} -c "$logmax"; n=$(wc -c); if [ "$n" -gt 0 ]; then printf '\\n[ledgerflow: %s more bytes of output dropped: the log is capped at %s bytes]\\n' "$n" "$logmax"; fi; } >"$dir/log" &
wait $!
code=137; read code <"$dir/status" || :
if [ "$procs" != - ]; then for f in $procs; do for e in "\${f%/cgroup.procs}/memory.oom_control" "\${f%/cgroup.procs}/memory.events"; do
  if [ -r "$e" ]; then while read k v; do if [ "$k" = oom_kill ] && [ "$v" -gt 0 ]; then : >"$dir/oom"; fi; done <"$e"; fi
done; done; fi
record "$code" end 2>/dev/null
kill -KILL 0
`;

export const SUPERVISOR_NAME = 'ledgerflow-job';

/** Where `npm run build` puts the C supervisor (scripts/build-native.js). */
const NATIVE = join(__dirname, 'ledgerflow-job');
/** The C supervisor, if it was built here. */
export const nativeSupervisor = builtProgram(NATIVE);

/** How the supervisor is started: its program and arguments. */
export interface SupervisorCommand {
  file: string;
  args: string[];
}

/** The supervisor that runs `staged` with the arguments before the sandbox (`common`: job dir
 * to workspace, see above): the C program at `nativePath` makes the stage itself (`-` for
 * none, or `stage UID GID RUNDIR N` and N source and mount point pairs), the shell one runs
 * the stage's programs. */
export function supervisorCommand(nativePath: string | undefined, common: readonly string[], staged: StagedSandbox): SupervisorCommand {
  if (nativePath !== undefined) {
    const { stage, sandbox } = staged;
    const stageArgs =
      stage === undefined
        ? ['-']
        : ['stage', String(stage.uid), String(stage.gid), stage.runDir, String(stage.binds.length), ...stage.binds.flatMap((b) => [b.source, b.point])];
    return { file: nativePath, args: [...common, ...stageArgs, sandbox.file, ...sandbox.args] };
  }
  const sandbox = withStage(staged);
  return { file: '/bin/sh', args: ['-c', supervisorScript(), SUPERVISOR_NAME, ...common, sandbox.file, ...sandbox.args] };
}

/** Where coreutils keeps the library that `stdbuf` preloads, by distribution. */
const STDBUF_LIBS = ['/usr/libexec/coreutils/libstdbuf.so', '/usr/lib/coreutils/libstdbuf.so', '/usr/local/libexec/coreutils/libstdbuf.so'];
let built: string | undefined;

/** The script, made once: the system does not change under the host. */
export function supervisorScript(): string {
  if (built === undefined) {
    const lib = STDBUF_LIBS.find((path) => existsSync(path));
    built = script(lib === undefined ? 'stdbuf -o0 head' : `LD_PRELOAD=${lib} _STDBUF_O=0 head`);
  }
  return built;
}
