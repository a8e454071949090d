import type { HostContext, HostExtension, RegisteredFunction, RpcTypedData } from '../extension';
import { stringOption } from '../app/registry';
import { withRetry } from '../app/retry';
import { parseSchedule, type Schedule } from './schedule';
import { ScheduleStatusStore, type ScheduleStatus } from './scheduleStatusStore';

/** setTimeout cannot wait longer; longer waits re-arm. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** The timer trigger payload as the Functions host sends it (PascalCase; the programming
 * model camel-cases it into `{ isPastDue, schedule: { adjustForDST }, scheduleStatus }`). */
function timerInput(status: ScheduleStatus | undefined, isPastDue: boolean): RpcTypedData {
  return {
    json: JSON.stringify({
      Schedule: { AdjustForDST: true },
      ScheduleStatus: status && {
        Last: (status.last ?? new Date(0)).toISOString(),
        Next: status.next.toISOString(),
        LastUpdated: status.lastUpdated.toISOString(),
      },
      IsPastDue: isPastDue,
    }),
  };
}

class TimerRunner {
  #timeout: NodeJS.Timeout | undefined;
  #stopped = false;
  #status: ScheduleStatus | undefined;

  constructor(
    private readonly ctx: HostContext,
    private readonly store: ScheduleStatusStore,
    private readonly fn: RegisteredFunction,
    private readonly schedule: Schedule,
    private readonly runOnStartup: boolean,
  ) {}

  /** The schedule monitor's start-up check (Functions `ScheduleMonitor.CheckPastDueAsync`):
   * a recorded next occurrence that has passed means the host was down when it was due. */
  async start(): Promise<void> {
    const now = new Date();
    const recorded = this.store.read(this.fn.name);
    let pastDue = false;
    if (recorded === undefined) {
      this.#status = { last: undefined, next: this.schedule.nextAfter(now), lastUpdated: now };
      this.#save();
    } else {
      const expected = this.schedule.nextAfter(recorded.last ?? recorded.lastUpdated);
      // A schedule changed to fire sooner moves the recorded occurrence forward, not back.
      const next = recorded.next > expected ? expected : recorded.next;
      this.#status = { ...recorded, next };
      pastDue = now > next;
    }
    if (pastDue || this.runOnStartup) {
      this.ctx.logger.info({ functionName: this.fn.name, isPastDue: pastDue, runOnStartup: this.runOnStartup }, 'timer fires at start');
      await this.#fire(pastDue ? this.#status.next : now, pastDue);
    }
    this.#arm();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timeout);
  }

  #arm(): void {
    if (this.#stopped || this.#status === undefined) return;
    const now = new Date();
    if (this.#status.next <= now) {
      this.#status = { ...this.#status, next: this.schedule.nextAfter(now), lastUpdated: now };
      this.#save();
    }
    const due = this.#status.next;
    const wait = Math.min(due.getTime() - now.getTime(), MAX_TIMEOUT_MS);
    this.#timeout = setTimeout(
      () => {
        if (Date.now() < due.getTime()) return this.#arm();
        void this.#fire(due, false).finally(() => this.#arm());
      },
      Math.max(wait, 0),
    );
  }

  #save(): void {
    if (this.#status === undefined) return;
    const err = this.store.write(this.fn.name, this.#status);
    if (err) this.ctx.logger.warn({ err: err.message, functionName: this.fn.name }, 'timer schedule status not saved; the next firing saves it again');
  }

  /** Records the occurrence before invoking, so a crash mid-run does not fire it twice;
   * the function sees Last = this occurrence and Next = the one after. */
  async #fire(occurrence: Date, isPastDue: boolean): Promise<void> {
    if (this.#stopped) return;
    const now = new Date();
    const next = this.schedule.nextAfter(occurrence > now ? occurrence : now);
    this.#status = { last: occurrence, next, lastUpdated: now };
    this.#save();
    try {
      const trigger = timerInput(this.#status, isPastDue);
      await withRetry(this.fn.retry, (retryContext) => this.ctx.invoke(this.fn, { trigger, retryContext }), this.ctx.shutdownSignal);
    } catch (err) {
      this.ctx.logger.error({ err, functionName: this.fn.name }, 'timer function failed');
    }
  }
}

/** timerTrigger functions: NCRONTAB schedules with seconds, runOnStartup, and past-due
 * detection from the schedule status persisted in the data dir. */
export function timerExtension(): HostExtension {
  const runners: TimerRunner[] = [];
  return {
    name: 'timer',
    triggerTypes: ['timerTrigger'],
    async start(ctx, functions) {
      const store = new ScheduleStatusStore(ctx.dataDir);
      for (const fn of functions) {
        const text = stringOption(fn.trigger, 'schedule');
        if (text === undefined) throw new Error(`function "${fn.name}": timer trigger needs a schedule`);
        let schedule: Schedule;
        try {
          schedule = parseSchedule(text);
        } catch (err) {
          throw new Error(`function "${fn.name}": ${(err as Error).message}`, { cause: err });
        }
        runners.push(new TimerRunner(ctx, store, fn, schedule, fn.trigger.options['runOnStartup'] === true));
      }
      // Start-up firings (past due, runOnStartup) run in the background: they must not hold
      // up the host being ready.
      for (const runner of runners) void runner.start().catch((err: unknown) => ctx.logger.error({ err }, 'timer start failed'));
    },
    stop() {
      runners.forEach((r) => r.stop());
    },
  };
}
