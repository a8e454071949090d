import { readFileSync } from 'node:fs';

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

/** Resident set of a process in bytes (Linux /proc). */
export function rssBytes(pid: number): number {
  const line = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (line === null) throw new Error(`no VmRSS for ${pid}`);
  return Number(line[1]) * 1024;
}
