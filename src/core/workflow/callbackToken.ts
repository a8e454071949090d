import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The bearer token a job presents when it reports completion. Derived, never stored:
 * HMAC-SHA256 under the platform key of `workflowId/jobName/attempt`, so the launch
 * activity can hand it to the job and the callback function can check it, and neither
 * the orchestration history nor any store holds it.
 */
export function callbackToken(key: Buffer, workflowId: string, jobName: string, attempt: number): string {
  return createHmac('sha256', key).update(`${workflowId}/${jobName}/${attempt}`).digest('base64url');
}

/** Constant-time comparison of a presented token with the expected one. */
export function callbackTokenMatches(key: Buffer, workflowId: string, jobName: string, attempt: number, presented: string): boolean {
  const expected = Buffer.from(callbackToken(key, workflowId, jobName, attempt));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
