import type { BindingSpec, HostContext, HostExtension, RegisteredFunction, RpcTypedData } from '../extension';
import { stringOption } from '../app/registry';
import { metadataString } from '../wire/metadataString';
import type { QueueMessage } from './queueClient';
import { isValidQueueName } from './queueClient';
import type { QueueStore } from './queueStore';

const MIN_POLL_MS = 50;
/** Longest a message stays leased while its function runs before another delivery. */
const DEFAULT_LEASE_MS = 10 * 60 * 1000;

function queueName(fn: RegisteredFunction, binding: BindingSpec): string {
  const name = stringOption(binding, 'queueName');
  if (name === undefined || !isValidQueueName(name)) {
    throw new Error(
      `function "${fn.name}": binding "${binding.name}" needs a valid queueName (3-63 lower-case letters, digits, hyphens), got ${JSON.stringify(name)}`,
    );
  }
  return name;
}

/** An output value -> messages: an array is one message per element, as the Functions host
 * does for queue outputs; strings stay text, other values become JSON text. */
function toMessages(value: RpcTypedData): (string | Buffer)[] {
  if (value.bytes) return [Buffer.from(value.bytes)];
  if (typeof value.string === 'string') return [value.string];
  if (typeof value.json === 'string') {
    const parsed: unknown = JSON.parse(value.json);
    const items = Array.isArray(parsed) ? parsed : [parsed];
    return items.map((item) => (typeof item === 'string' ? item : JSON.stringify(item)));
  }
  if (value.collectionString?.string) return value.collectionString.string;
  if (typeof value.int === 'number' || typeof value.double === 'number') return [String(value.int ?? value.double)];
  return [];
}

/** What a queue trigger's function gets as `context.triggerMetadata` (PascalCase, as the
 * Functions host sends it; the programming model camel-cases it). */
function triggerMetadata(message: QueueMessage): Record<string, RpcTypedData> {
  const text = typeof message.body === 'string' ? message.body : message.body.toString('base64');
  return {
    DequeueCount: { int: message.dequeueCount },
    Id: metadataString(message.id),
    InsertionTime: metadataString(message.insertedAt.toISOString()),
    ExpirationTime: metadataString(message.expiresAt.toISOString()),
    NextVisibleTime: metadataString(message.visibleAt.toISOString()),
    PopReceipt: metadataString(message.popReceipt ?? ''),
    QueueTrigger: metadataString(text),
  };
}

class QueueListener {
  #inFlight = 0;
  #delay = MIN_POLL_MS;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(
    private readonly ctx: HostContext,
    private readonly store: QueueStore,
    private readonly fn: RegisteredFunction,
    readonly queue: string,
  ) {}

  get #options() {
    return this.ctx.hostJson.extensions.queues;
  }

  start(): void {
    this.pump();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  /** Fetches when at most `newBatchThreshold` messages are in flight; backs off (doubling,
   * up to maxPollingInterval) while the queue is empty; `wake()` cuts the wait short. */
  pump(): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const { batchSize, newBatchThreshold, maxPollingInterval } = this.#options;
    const threshold = newBatchThreshold ?? Math.floor(batchSize / 2);
    if (this.#inFlight > threshold) return;
    let messages: QueueMessage[];
    try {
      messages = this.store.receive(this.queue, batchSize - this.#inFlight, this.ctx.hostJson.functionTimeout ?? DEFAULT_LEASE_MS);
    } catch (err) {
      this.ctx.logger.error({ err, queue: this.queue }, 'queue receive failed');
      messages = [];
    }
    if (messages.length > 0) {
      this.#delay = MIN_POLL_MS;
      for (const message of messages) void this.ctx.track(this.#process(message));
      return;
    }
    this.#timer = setTimeout(() => this.pump(), this.#delay);
    this.#delay = Math.min(this.#delay * 2, Math.max(maxPollingInterval, MIN_POLL_MS));
  }

  wake(): void {
    this.#delay = MIN_POLL_MS;
    if (this.#timer !== undefined) this.pump();
  }

  async #process(message: QueueMessage): Promise<void> {
    this.#inFlight++;
    const log = this.ctx.logger.child({ functionName: this.fn.name, queue: this.queue, messageId: message.id, dequeueCount: message.dequeueCount });
    const { maxDequeueCount, visibilityTimeout } = this.#options;
    try {
      if (message.dequeueCount > maxDequeueCount) {
        log.warn({ poisonQueue: this.store.moveToPoison(message) }, 'message exceeded maxDequeueCount: moved to the poison queue');
        return;
      }
      const trigger: RpcTypedData = typeof message.body === 'string' ? { string: message.body } : { bytes: message.body };
      try {
        await this.ctx.invoke(this.fn, { trigger, triggerMetadata: triggerMetadata(message) });
        this.store.delete(message);
      } catch (err) {
        if (message.dequeueCount >= maxDequeueCount) {
          log.error({ err, poisonQueue: this.store.moveToPoison(message) }, 'queue function failed for the last time: message moved to the poison queue');
        } else {
          log.warn({ err }, 'queue function failed: the message will be retried');
          this.store.release(message, visibilityTimeout);
        }
      }
    } catch (err) {
      log.error({ err }, 'queue message handling failed');
    } finally {
      this.#inFlight--;
      this.pump();
    }
  }
}

/** queueTrigger functions and queue output bindings on the SQLite queues of the data dir. */
export function queueExtension(store: QueueStore): HostExtension {
  const listeners: QueueListener[] = [];
  let unsubscribe: (() => void) | undefined;
  return {
    name: 'queue',
    triggerTypes: ['queueTrigger'],
    outputBindingTypes: ['queue'],
    start(ctx, functions) {
      for (const fn of ctx.functions()) {
        for (const b of fn.outputs.filter((o) => o.type.toLowerCase() === 'queue')) queueName(fn, b);
      }
      if (functions.length === 0) return;
      for (const fn of functions) listeners.push(new QueueListener(ctx, store, fn, queueName(fn, fn.trigger)));
      // The store is opened (made, on a first start) before the host says it is ready: a
      // process that enqueues into the data dir from then on finds the file instead of making
      // one of its own beside it (src/fs/sqliteCreate.ts). The first poll waits for the next
      // turn of the event loop.
      try {
        const reclaimed = store.reclaimLeases();
        if (reclaimed > 0) ctx.logger.info({ reclaimed }, 'made messages leased by a previous host run visible again');
      } catch (err) {
        ctx.logger.error({ err }, 'cannot open the queue store: queue triggers will not run');
        return;
      }
      setImmediate(() => {
        if (ctx.shutdownSignal.aborted) return;
        unsubscribe = store.onEnqueue((queue) => listeners.filter((l) => l.queue === queue).forEach((l) => l.wake()));
        listeners.forEach((l) => l.start());
      });
    },
    stop() {
      unsubscribe?.();
      listeners.forEach((l) => l.stop());
    },
    writeOutput(binding, value, fn) {
      const queue = queueName(fn, binding);
      for (const message of toMessages(value)) store.enqueue(queue, message);
    },
  };
}
