import * as df from 'durable-functions';
import { services } from '../../src/app/services';
import { runTick, type TickInput, type TickOutcome } from '../../src/app/schedules/tick';
import { durableRunControl } from '../../src/app/workflows/runControl';
import { defineActivity } from './define';
import { durableClientOf } from '../../src/app/workflows/durableClient';

/** One tick of a schedule (src/app/schedules/tick.ts): a normal submission as the
 * schedule's creator, through the same WorkflowService as POST /workflows. */
export const scheduleTick = defineActivity<TickInput, TickOutcome>(
  'scheduleTick',
  async (input, _deps, context) => {
    const runs = durableRunControl(durableClientOf(context));
    return runTick(input, await (await services()).workflowService(runs), runs);
  },
  { extraInputs: [df.input.durableClient()] },
);
