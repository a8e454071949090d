/**
 * The per-job supervisor: a few lines of /bin/sh, started detached (own session) so it
 * outlives the host. It runs the sandbox with the memory limit, enforces the time limit,
 * and records the exit code atomically in exit.json; after a host crash or `kill -9`, a
 * new backend reads the outcome from there. Shell rather than a node script: starting
 * node would cost ~40 ms a job, more than the sandbox itself.
 *
 * Arguments: job dir, time limit (s), memory limit (KiB, 0 for none), then the sandbox
 * program and its arguments. SIGTERM to it (cancel, timeout) kills the sandbox. Files it
 * writes in the job dir: sandbox.pid, log (the job's stdout and stderr), timed-out (marker), exit.json.
 */
export const SUPERVISOR_SCRIPT = `
dir=$1; limit=$2; mem=$3; shift 3
child=; killed=
# Stop the sandbox's outer process first so it starts no more children, then kill its
# children (the pid namespace's init: the kernel then kills every process inside), then it.
# Killing only the outer process could orphan an init that has not yet armed its
# parent-death signal.
killtree() {
  killed=1
  [ -n "$child" ] || return 0
  kill -STOP "$child" 2>/dev/null
  for c in $(cat /proc/"$child"/task/*/children 2>/dev/null); do kill -KILL "$c" 2>/dev/null; done
  kill -KILL "$child" 2>/dev/null
}
# The watchdog starts before any trap is set, so it inherits none (dash keeps a parent's
# traps in a subshell until it sets its own). It acts only if the run has not ended.
( trap 'kill "$s" 2>/dev/null; exit 0' TERM
  sleep "$limit" & s=$!; wait "$s"
  [ -e "$dir/exit.json" ] || { : >"$dir/timed-out"; kill -TERM $$; } ) 2>/dev/null &
watchdog=$!
trap killtree TERM
( if [ "$mem" -gt 0 ]; then ulimit -v "$mem"; fi; exec "$@" ) >"$dir/log" 2>&1 </dev/null &
child=$!
echo "$child" >"$dir/sandbox.pid"
# A cancel that came before sandbox.pid existed left only its marker.
if [ -n "$killed" ] || [ -e "$dir/canceled" ]; then killtree; fi
# wait returns early when the TERM trap runs; wait again until the sandbox is reaped.
while :; do
  wait "$child"; code=$?
  kill -0 "$child" 2>/dev/null || break
done
kill -TERM "$watchdog" 2>/dev/null
# An interrupted wait reports the trap's signal, not the sandbox's: a killed sandbox is 137.
if [ -n "$killed" ]; then code=137; fi
# One short write, no helper programs (each costs a fork and exec per job); the file's
# mtime is the end time. Readers treat an empty or partial file as not yet written.
printf '{"exitCode":%d}\\n' "$code" >"$dir/exit.json"
`;

export const SUPERVISOR_NAME = 'ledgerflow-job';
