/**
 * Queue messages about one run that are still stored after it ended (a cleanup message the
 * host moved to the poison queue, or one redelivered after cleanup had run). Retention
 * deletes them with the run.
 */
export interface RunMessages {
  /** Deletes every stored message naming the run; returns how many. */
  deleteFor(workflowId: string): Promise<number>;
}
