/** Enqueueing into the app's storage queues from host code and tests (the durable engine,
 * fixtures). Messages are delivered to `queueTrigger` functions at least once. */
export interface QueueMessageInit {
  /** Delay before the message becomes visible. */
  readonly visibilityDelayMs?: number;
  /** Time to live; default seven days, as Azure Storage. */
  readonly timeToLiveMs?: number;
}

export interface QueueMessage {
  readonly id: string;
  readonly queue: string;
  /** Text messages (strings, JSON) as string; binary ones as Buffer. */
  readonly body: string | Buffer;
  readonly dequeueCount: number;
  readonly insertedAt: Date;
  readonly expiresAt: Date;
  readonly visibleAt: Date;
  readonly popReceipt: string | null;
}

export interface QueueClient {
  /** Adds a message; returns its id. Objects are stored as JSON text. */
  enqueue(queue: string, body: string | Uint8Array | object, init?: QueueMessageInit): string;
  /** Messages in a queue (visible or not), oldest first, for inspection. */
  peek(queue: string, limit?: number): QueueMessage[];
  count(queue: string): number;
}

/** Azure Storage queue names: 3-63 lower-case letters, digits and single hyphens. Enforced
 * locally too, so a name that works here works on Azure. */
export function isValidQueueName(name: string): boolean {
  return /^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/.test(name);
}
