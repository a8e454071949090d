import { mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** CPU ms a process has used so far, all its threads (Linux /proc, USER_HZ = 100), to report
 * cost independent of how busy the machine is; undefined elsewhere. */
export function processCpuMs(pid: number): number | undefined {
  return statCpuMs(`/proc/${pid}/stat`);
}

/** CPU ms one thread of a process has used so far (the main thread's id is the pid). */
export function threadCpuMs(pid: number, tid: number): number | undefined {
  return statCpuMs(`/proc/${pid}/task/${tid}/stat`);
}

function statCpuMs(file: string): number | undefined {
  try {
    const fields = (readFileSync(file, 'utf8').split(') ')[1] as string).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** The processes `pid` started that still run (Linux /proc). */
function childPids(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8')
        .split(' ')
        .filter((p) => p !== '')
        .map(Number),
    );
  } catch {
    return [];
  }
}

/** CPU ms of a host and of the helper processes it runs (the local runner's supervisor
 * spawner): work moved into a helper still counts as the host's. Not their children: the
 * jobs and their supervisors are what the host runs, not what it costs. */
export function hostCpuMs(pid: number): number | undefined {
  const own = processCpuMs(pid);
  if (own === undefined) return undefined;
  return childPids(pid).reduce((sum, child) => sum + (processCpuMs(child) ?? 0), own);
}

/** Resident set of a process in bytes (Linux /proc). */
export function rssBytes(pid: number): number {
  const line = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (line === null) throw new Error(`no VmRSS for ${pid}`);
  return Number(line[1]) * 1024;
}

/** CPU of a process tree from now on, whatever runs in it (Linux cgroup v1 `cpuacct`, as
 * root): the processes given are moved into a group of their own, and everything they start
 * from then on is counted with them, including processes that have exited. */
export interface TreeCpu {
  /** CPU ms the group has used since it was made. */
  ms(): number;
  /** Moves the given processes that still run back where they were and removes the group
   * once the processes they started have left it (waits up to 2 s; a group left behind is
   * reported on stderr, not thrown, so that it cannot hide the run's own error). */
  close(): Promise<void>;
}

const CPUACCT = '/sys/fs/cgroup/cpuacct';

/** The cpuacct group of a process, relative to the hierarchy's root; undefined where cpuacct
 * shares its hierarchy with cpu (`cpu,cpuacct`): the local runner moves each job into a cpu
 * group of its own there, which would take the job's CPU out of the count. */
function cpuacctGroup(pid: number): string | undefined {
  const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .split('\n')
    .find((l) => l.split(':')[1] === 'cpuacct');
  return line?.split(':')[2];
}

/** undefined where there is no writable cpuacct hierarchy (cgroup v2 only, not root). */
export function treeCpu(pids: readonly number[]): TreeCpu | undefined {
  const dir = join(CPUACCT, `lf-bench-${process.pid}-${pids[0] ?? 0}`);
  const from = new Map(pids.map((pid) => [pid, cpuacctGroup(pid)]));
  if ([...from.values()].some((g) => g === undefined)) return undefined;
  try {
    mkdirSync(dir);
  } catch {
    return undefined;
  }
  const back = () => {
    for (const [pid, group] of from) {
      try {
        writeFileSync(join(CPUACCT, group ?? '/', 'cgroup.procs'), String(pid));
      } catch {
        // gone
      }
    }
  };
  try {
    for (const pid of pids) writeFileSync(join(dir, 'cgroup.procs'), String(pid));
  } catch {
    back();
    rmdirSync(dir);
    return undefined;
  }
  const usage = () => Number(readFileSync(join(dir, 'cpuacct.usage'), 'utf8')) / 1e6;
  const start = usage();
  return {
    ms: () => usage() - start,
    close: async () => {
      back();
      for (let attempt = 0; ; attempt++) {
        try {
          rmdirSync(dir);
          return;
        } catch (err) {
          if (attempt >= 40) {
            process.stderr.write(`bench: could not remove ${dir}: ${String(err)}\n`);
            return;
          }
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    },
  };
}

/** A process and the processes it started that still run. */
export function withChildren(pid: number): number[] {
  return [pid, ...childPids(pid)];
}
