import * as df from 'durable-functions';
import type { Caller, OutputManifest } from '../../src/core/model';
import { outputBytes } from '../../src/core/workflow/outputs';
import { currentOutputs } from '../../src/app/workflows/outputs';
import { durableRunControl } from '../../src/app/workflows/runControl';
import { defineActivity } from './define';
import { durableClientOf } from '../../src/app/workflows/durableClient';

/** A finished run's outputs: listed and hashed for the ledger, and deleted when rejected. */

export interface CollectOutputsInput {
  caller: Caller;
  workflowId: string;
  /** The submitted code files (path and digest): those left unchanged are no output. */
  submitted: { path: string; sha256: string }[];
  jobs: string[];
}

export interface CollectedOutputs {
  outputs: OutputManifest;
  /** Set when the outputs exceed the smallest maxResultBytes the ledger fixed at launch. */
  exceeded?: { bytes: number; limit: number };
}

/** The manifest holds paths, sizes and digests only (no content), so it may enter history. */
export const collectOutputs = defineActivity<CollectOutputsInput, CollectedOutputs>(
  'collectOutputs',
  async ({ caller, workflowId, submitted, jobs }, deps, context) => {
    const outputs = await currentOutputs(durableRunControl(durableClientOf(context)), deps.compute, workflowId, submitted, jobs);
    const limit = (await deps.ledger.as(caller).getWorkflow(workflowId))?.maxResultBytes;
    const bytes = outputBytes(outputs);
    deps.log.info({ workflowId, files: outputs.files.length, logs: outputs.logs.length, bytes }, 'outputs recorded');
    return limit !== undefined && bytes > limit ? { outputs, exceeded: { bytes, limit } } : { outputs };
  },
  { extraInputs: [df.input.durableClient()] },
);

export const deleteRunOutputs = defineActivity<{ workflowId: string }, null>('deleteRunOutputs', async ({ workflowId }, deps) => {
  await deps.compute.deleteOutputs?.(workflowId);
  deps.log.info({ workflowId }, 'withheld outputs deleted');
  return null;
});
