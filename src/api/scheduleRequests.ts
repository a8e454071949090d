import { z } from 'zod';
import { DATASET_ID, DATASET_ID_RULE } from '../core/names';
import { fileMapProblems } from '../core/relativePath';
import { SCHEDULE_ID } from '../core/schedules/schedule';
import { MAX_SPEC_BYTES } from '../core/workflow/spec';
import { ncrontabProblem } from '../time/ncrontab';
import { displayName } from './datasetRequests';

/** The schedule API's inputs, validated once at the edge, every problem with its path. */

const schedule = z
  .string()
  .min(1)
  .max(200)
  .superRefine((text, ctx) => {
    const problem = ncrontabProblem(text);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  })
  .meta({ description: 'six-field NCRONTAB, UTC: {second} {minute} {hour} {day} {month} {day-of-week}' });

export const createScheduleBody = z
  .object({
    name: displayName,
    workflow: z.string().min(1).max(MAX_SPEC_BYTES).meta({ description: 'the workflow YAML, as POST /workflows takes it' }),
    files: z.record(z.string(), z.string()).default({}),
    schedule: schedule.optional(),
    trigger: z
      .object({ datasetUpdated: z.string().regex(DATASET_ID, DATASET_ID_RULE) })
      .strict()
      .optional(),
    enabled: z.boolean().default(true),
    options: z
      .object({
        overlap: z
          .enum(['skip', 'allow'])
          .default('skip')
          .meta({ description: 'skip (default): a tick while the previous run has not ended is recorded, not run' }),
        releaseLeases: z.boolean().default(false),
      })
      .strict()
      .default({ overlap: 'skip', releaseLeases: false }),
  })
  .strict()
  .superRefine((body, ctx) => {
    if ((body.schedule === undefined) === (body.trigger === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['schedule'], message: 'exactly one of schedule and trigger is required' });
    }
    for (const problem of fileMapProblems(body.files)) ctx.addIssue({ code: 'custom', path: [problem.path], message: problem.message });
  });

export const patchScheduleBody = z
  .object({ enabled: z.boolean().optional(), schedule: schedule.optional(), name: displayName.optional() })
  .strict()
  .refine((b) => b.enabled !== undefined || b.schedule !== undefined || b.name !== undefined, { message: 'enabled, schedule or name is required' });

export const scheduleIdParam = z.string().regex(SCHEDULE_ID, 'must be a schedule id (sched-<org>-<32 hex>)');
