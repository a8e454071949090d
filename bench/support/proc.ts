import { readdirSync, readFileSync } from 'node:fs';

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
