import type { InboxEvent } from './history';
import { emptyState, foldHistory, type ReplayState } from './replay';
import type { DurableStore, InstanceRow, StoredMessage, WriteBatch } from './store';
import { replayText } from './triggerInput';

/** What the engine keeps in memory per active instance: a cache of the store, rebuilt on start. */

export interface InboxItem {
  event: InboxEvent;
  visibleAt: number;
  /** Row in `messages` to delete when consumed. */
  messageId?: number | undefined;
  /** The same, for a message whose row is being committed (its id is known only then). */
  stored?: StoredMessage | undefined;
  /** Row in `activities` to delete when this completion is consumed. */
  activityId?: number | undefined;
  /**
   * A raised event not yet in the store: the next episode commits it (in its history when
   * it admits it, else as a message row), then settles the sender's promise.
   */
  ticket?: { resolve: () => void; reject: (e: unknown) => void } | undefined;
}

export interface Live {
  row: InstanceRow;
  state: ReplayState;
  /** Number of events in the stored history of the current execution. */
  historyLength: number;
  /**
   * JSON text of the history events the SDK reads when it replays (the others it skips),
   * kept between episodes so an episode serialises only its new events.
   */
  replay: string[];
  inbox: InboxItem[];
  busy: boolean;
  queued: boolean;
  /** Nothing in the inbox can be admitted until a new message arrives (suspended). */
  parked: boolean;
  /** When a wake-up for this instance's next timer is already due. */
  wakeAt: number;
  /** Its last episode is written and it waits for nothing more (the commit is on its way). */
  ending: boolean;
}

/** A new instance, its first message (ExecutionStarted) in its inbox. */
export function newLive(row: InstanceRow, first: InboxItem): Live {
  return {
    row,
    state: emptyState(row.instanceId),
    historyLength: 0,
    replay: [],
    inbox: [first],
    busy: false,
    queued: false,
    parked: false,
    wakeAt: Infinity,
    ending: false,
  };
}

/** An active instance as the store holds it. */
export function restoreLive({ row, history, inbox }: ReturnType<DurableStore['loadActive']>[number]): Live {
  return {
    row,
    state: foldHistory(row.instanceId, history),
    historyLength: history.length,
    replay: history.flatMap((e) => replayText(e) ?? []),
    inbox: inbox.map((m) => ({ event: m.event, visibleAt: m.visibleAt, messageId: m.id })),
    busy: false,
    queued: false,
    parked: false,
    wakeAt: Infinity,
    ending: false,
  };
}

/** An entity: no history or replay state, only its row (state in `input`) and inbox. */
export function entityLive(row: InstanceRow, inbox: InboxItem[] = []): Live {
  return {
    row,
    state: emptyState(row.instanceId),
    historyLength: 0,
    replay: [],
    inbox,
    busy: false,
    queued: false,
    parked: false,
    wakeAt: Infinity,
    ending: false,
  };
}

/** The `messages` rows (or rows still being committed) of consumed inbox items. */
export function messageRows(items: readonly InboxItem[]): (number | StoredMessage)[] {
  return items.flatMap((m): (number | StoredMessage)[] => (m.messageId !== undefined ? [m.messageId] : m.stored !== undefined ? [m.stored] : []));
}

/**
 * Raised events an episode did not admit go into its batch as messages; the returned step
 * (after commit) records their row ids and settles their senders.
 */
export function storeRaised(live: Live, items: readonly InboxItem[], batch: WriteBatch): () => void {
  if (items.length === 0) return () => undefined;
  const msgs = items.map((m): StoredMessage => ({ instanceId: live.row.instanceId, visibleAt: m.visibleAt, event: m.event }));
  (batch.insertMessages ??= []).push(...msgs);
  return () => {
    items.forEach((m, i) => {
      const ticket = m.ticket;
      m.messageId = msgs[i]?.id;
      m.ticket = undefined;
      ticket?.resolve();
    });
  };
}
