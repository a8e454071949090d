import { errorMessage } from '../../../core/errors';
import type { Logger } from '../../../observability/logger';

/**
 * Undo steps of a multi-step launch, run in reverse when a later step fails, so a failed
 * launch leaves nothing behind (the saga pattern). Only objects this launch created are
 * pushed: one that already existed (409) may belong to an earlier launch of the same run.
 */
export class Compensation {
  private readonly steps: { what: string; undo: () => Promise<unknown> }[] = [];

  push(what: string, undo: () => Promise<unknown>): void {
    this.steps.push({ what, undo });
  }

  /** Undoes everything pushed, newest first; an undo that fails is logged and the rest still run. */
  async unwind(log: Logger): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step.undo();
      } catch (err) {
        log.warn({ what: step.what, err: errorMessage(err) }, 'compensation step failed; cleanup of the run will retry it');
      }
    }
  }
}

/** Runs the steps with a fresh compensation stack; on failure unwinds it and rethrows. */
export async function withCompensation<T>(log: Logger, steps: (stack: Compensation) => Promise<T>): Promise<T> {
  const stack = new Compensation();
  try {
    return await steps(stack);
  } catch (err) {
    await stack.unwind(log);
    throw err;
  }
}
