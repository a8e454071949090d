import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Per-job resource limits on one machine. A job gets its own cgroup, so its limits hold for
 * all its processes together (an rlimit holds per process): memory with no swap, a process
 * count, and a CPU share from `resources.cpu`. cgroup v2 where the host can create groups
 * (a writable cgroup2 mount with the controllers), else the v1 hierarchies (memory, pids,
 * cpu), else rlimits: address space and process count per process, no CPU limit. The
 * supervisor joins the groups as root before it becomes the job user.
 */
export type CgroupMode = 'v2' | 'v1' | 'rlimits';

export interface JobLimits {
  memoryBytes: number;
  pids: number;
  /** CPUs (0.5 for `500m`); undefined: no CPU limit. */
  cpu: number | undefined;
}

const GROUP = 'ledgerflow';
const CPU_PERIOD_US = 100_000;

/** A job's groups as data, so that another process can make and remove them (the supervisor
 * spawner's, spawner.ts): the groups, and the limit files written once they exist. */
export interface CgroupPlan {
  dirs: string[];
  writes: { file: string; value: string }[];
}

export class JobCgroups {
  private constructor(
    readonly mode: CgroupMode,
    private readonly dirs: { memory: string; pids: string; cpu: string | undefined } | undefined,
    /** The swap limit file this kernel has in a memory group (none: no swap accounting). */
    private readonly swapFile: 'memory.swap.max' | 'memory.memsw.limit_in_bytes' | 'memory.swappiness' | undefined,
  ) {}

  /** Tries v2, then v1, at `root` (a test passes a fake tree). Never throws. */
  static detect(root = '/sys/fs/cgroup'): JobCgroups {
    const v2 = tryDir(() => {
      const controllers = readFileSync(join(root, 'cgroup.controllers'), 'utf8').split(/\s+/);
      if (!controllers.includes('memory') || !controllers.includes('pids')) return undefined;
      const wanted = ['memory', 'pids', ...(controllers.includes('cpu') ? ['cpu'] : [])];
      const parent = join(root, GROUP);
      mkdirSync(parent, { recursive: true });
      // Controllers reach a group only through its parent's subtree_control.
      for (const dir of [root, parent]) writeFileSync(join(dir, 'cgroup.subtree_control'), wanted.map((c) => `+${c}`).join(' '));
      return { memory: parent, pids: parent, cpu: controllers.includes('cpu') ? parent : undefined };
    });
    // A job group has the files its parent (a group of ours, not the root) has.
    if (v2 !== undefined) return new JobCgroups('v2', v2, existsSync(join(v2.memory, 'memory.swap.max')) ? 'memory.swap.max' : undefined);
    const v1 = tryDir(() => {
      const dirs = { memory: join(root, 'memory', GROUP), pids: join(root, 'pids', GROUP), cpu: join(root, 'cpu', GROUP) };
      if (!existsSync(join(root, 'memory', 'memory.limit_in_bytes')) || !existsSync(join(root, 'pids', 'cgroup.procs'))) return undefined;
      mkdirSync(dirs.memory, { recursive: true });
      mkdirSync(dirs.pids, { recursive: true });
      const cpu = existsSync(join(root, 'cpu', 'cpu.cfs_quota_us')) ? (mkdirSync(dirs.cpu, { recursive: true }), dirs.cpu) : undefined;
      return { ...dirs, cpu };
    });
    if (v1 !== undefined) {
      // memory+swap equal to memory: no swap. Without swap accounting, swappiness 0 is the closest.
      const swap = (['memory.memsw.limit_in_bytes', 'memory.swappiness'] as const).find((f) => existsSync(join(v1.memory, f)));
      return new JobCgroups('v1', v1, swap);
    }
    return new JobCgroups('rlimits', undefined, undefined);
  }

  /** The job's groups with `limits` (none in rlimits mode) and the cgroup.procs files the
   * supervisor joins. Made by makeGroups(), where the supervisor is started: cgroupfs calls
   * wait on the kernel's cgroup lock, which every job joining its groups takes for a few ms
   * (measured: host main thread blocked ~1 ms a job in rmdir under 40 workflows at once). */
  plan(name: string, limits: JobLimits): { plan: CgroupPlan; procs: string[] } | undefined {
    const dirs = this.dirs;
    if (dirs === undefined) return undefined;
    const groups = [...new Set([dirs.memory, dirs.pids, ...(limits.cpu !== undefined && dirs.cpu !== undefined ? [dirs.cpu] : [])])].map((d) => join(d, name));
    const memory = join(dirs.memory, name);
    const pids = join(dirs.pids, name);
    const quota = limits.cpu === undefined ? undefined : Math.max(1000, Math.round(limits.cpu * CPU_PERIOD_US));
    const writes: CgroupPlan['writes'] = [];
    const write = (file: string, value: string) => writes.push({ file, value });
    const swap = this.swapFile;
    if (this.mode === 'v2') {
      write(join(memory, 'memory.max'), String(limits.memoryBytes));
      if (swap !== undefined) write(join(memory, swap), '0');
      write(join(pids, 'pids.max'), String(limits.pids));
      if (quota !== undefined && dirs.cpu !== undefined) write(join(dirs.cpu, name, 'cpu.max'), `${quota} ${CPU_PERIOD_US}`);
    } else {
      write(join(memory, 'memory.limit_in_bytes'), String(limits.memoryBytes));
      if (swap === 'memory.memsw.limit_in_bytes') write(join(memory, swap), String(limits.memoryBytes));
      else if (swap !== undefined) write(join(memory, swap), '0');
      write(join(pids, 'pids.max'), String(limits.pids));
      if (quota !== undefined && dirs.cpu !== undefined) {
        write(join(dirs.cpu, name, 'cpu.cfs_period_us'), String(CPU_PERIOD_US));
        write(join(dirs.cpu, name, 'cpu.cfs_quota_us'), String(quota));
      }
    }
    return { plan: { dirs: groups, writes }, procs: groups.map((g) => join(g, 'cgroup.procs')) };
  }

  /** Removes the job's groups once its processes are gone. Idempotent. */
  async remove(name: string): Promise<void> {
    const dirs = this.dirs;
    if (dirs === undefined) return;
    await removeGroups([...new Set([dirs.memory, dirs.pids, ...(dirs.cpu === undefined ? [] : [dirs.cpu])])].map((d) => join(d, name)));
  }
}

/** Makes the groups of a plan and writes their limits. Synchronous file calls: cgroupfs
 * lives in memory and each call takes microseconds, where the promise API costs a round trip
 * through libuv's threads per call (a job's memory and pids groups made and removed: 0.31 ms
 * of CPU that way, 0.08-0.11 ms synchronously, measured). */
export function makeGroups(plan: CgroupPlan): void {
  for (const dir of plan.dirs) mkdirIfMissing(dir);
  for (const { file, value } of plan.writes) writeFileSync(file, value);
}

/** Removes groups whose processes are gone or going; false when one stayed busy. Idempotent. */
export async function removeGroups(dirs: readonly string[]): Promise<boolean> {
  let all = true;
  for (const dir of dirs) {
    // A group still holding a dying process is busy for a moment: most often a millisecond
    // or two (the sandbox's pid namespace being torn down after its supervisor reaped it),
    // so the waits grow from 1 ms to 50 ms, about a second in all. A flat 50 ms held one job
    // in ten that long before its exit was reported (1 removal in 20 busy at first, bench).
    let gone = removed(dir);
    for (let waited = 0, wait = 1; !gone && waited < REMOVE_WAIT_MS; waited += wait, wait = Math.min(wait * 2, 50)) {
      await new Promise((r) => setTimeout(r, wait));
      gone = removed(dir);
    }
    all &&= gone;
  }
  return all;
}

/** How long removeGroups waits for a busy group to empty. */
const REMOVE_WAIT_MS = 1000;

function tryDir<T>(make: () => T | undefined): T | undefined {
  try {
    return make();
  } catch {
    return undefined;
  }
}

function mkdirIfMissing(dir: string): void {
  try {
    mkdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/** Removes a group; false while it is busy (still holds a dying process), true otherwise
 * (gone, or an error that trying again would not fix). */
function removed(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'EBUSY';
  }
}
