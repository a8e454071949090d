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
 * stderr), timed-out (marker), exit.json (one short write in place, no helper programs,
 * which cost a fork and exec each; its mtime is the end time).
 */
export const SUPERVISOR_SCRIPT = `
dir=$1; limit=$2; mem=$3; shift 3
( sleep "$limit"; : >"$dir/timed-out"; echo '{"exitCode":137}' >"$dir/exit.json"; kill -KILL 0 ) 2>/dev/null &
( if [ "$mem" -gt 0 ]; then ulimit -v "$mem"; fi
  if [ -e "$dir/sandbox.args" ]; then exec 3<"$dir/sandbox.args"; fi
  exec "$@" ) >"$dir/log" 2>&1 </dev/null &
wait $!
printf '{"exitCode":%d}\\n' $? >"$dir/exit.json"
kill -KILL 0
`;

export const SUPERVISOR_NAME = 'ledgerflow-job';
