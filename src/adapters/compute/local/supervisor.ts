/**
 * The per-job supervisor: a few lines of /bin/sh, started detached (own session) so it
 * outlives the host. It runs the sandbox with the memory limit, enforces the time limit,
 * and records the exit code atomically in exit.json; after a host crash or `kill -9`, a
 * new backend reads the outcome from there. Shell rather than a node script: starting
 * node would cost ~40 ms a job, more than the sandbox itself.
 *
 * Arguments: job dir, time limit (s), memory limit (KiB, 0 for none), then the sandbox
 * program and its arguments. Files it writes in the job dir: wrapper.pid, sandbox.pid,
 * log (the job's stdout and stderr), timed-out (marker), exit.json.
 */
export const SUPERVISOR_SCRIPT = `
dir=$1; limit=$2; mem=$3; shift 3
echo $$ >"$dir/wrapper.pid"
( if [ "$mem" -gt 0 ]; then ulimit -v "$mem"; fi; exec "$@" ) >"$dir/log" 2>&1 </dev/null &
child=$!
echo "$child" >"$dir/sandbox.pid"
( trap 'kill "$s" 2>/dev/null; exit 0' TERM
  sleep "$limit" & s=$!; wait "$s"
  : >"$dir/timed-out"; kill -KILL "$child" ) 2>/dev/null &
watchdog=$!
wait "$child"; code=$?
kill -TERM "$watchdog" 2>/dev/null
printf '{"exitCode":%d,"endedAt":"%s"}\\n' "$code" "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" >"$dir/exit.tmp"
mv "$dir/exit.tmp" "$dir/exit.json"
`;

export const SUPERVISOR_NAME = 'ledgerflow-job';
