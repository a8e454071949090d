/**
 * The per-job supervisor: a few lines of /bin/sh, started detached (own session and
 * process group) so it outlives the host. It runs the sandbox under the memory limit,
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
 * Arguments: job dir, time limit (s), memory limit (KiB, 0 for none), then the sandbox
 * program and its arguments; `<job dir>/sandbox.args`, if present, is its descriptor 3. Files it writes in the job dir: log (the job's stdout and
 * stderr), timed-out (marker), exit.json (its mtime is the end time).
 *
 * exit.json is written to a temp file and renamed into place (one `mv`, the only helper
 * program), so a reader sees no file or the whole record, never an empty one. On a full
 * disk the write fails; the supervisor then stays alive and tries again every second, so
 * the job reads as still running (not as "ended without recording") until the record is
 * down. The time-limit branch uses its own temp name: both may write at once.
 */
export const SUPERVISOR_SCRIPT = `
dir=$1; limit=$2; mem=$3; shift 3
record() { until printf '{"exitCode":%d}\\n' "$1" >"$dir/.exit-$2.tmp" && mv -f "$dir/.exit-$2.tmp" "$dir/exit.json"; do sleep 1; done; }
( sleep "$limit"; : >"$dir/timed-out"; record 137 limit; kill -KILL 0 ) 2>/dev/null &
( if [ "$mem" -gt 0 ]; then ulimit -v "$mem"; fi
  if [ -e "$dir/sandbox.args" ]; then exec 3<"$dir/sandbox.args"; fi
  exec "$@" ) >"$dir/log" 2>&1 </dev/null &
wait $!
record $? end 2>/dev/null
kill -KILL 0
`;

export const SUPERVISOR_NAME = 'ledgerflow-job';
