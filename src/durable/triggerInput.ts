import { EventType, type HistoryEvent } from './history';
import { parseOrchestratorFailure, parseOrchestratorState, type OrchestratorResult } from './actions';
import type { FunctionPort, OrchestrationTriggerInput } from './ports';
import type { ReplayState } from './replay';

/**
 * The orchestration trigger input the SDK replays (`DurableOrchestrationBindingInfo`),
 * built as JSON text from the history events the SDK reads, which the engine keeps
 * serialised between episodes so an episode serialises only its new events.
 */

/** The fixed fields of the orchestration trigger input. */
const TRIGGER_FIXED: Omit<OrchestrationTriggerInput, 'history' | 'input' | 'instanceId' | 'parentInstanceId'> = {
  isReplaying: false,
  // ReplaySchema.V2: actions come nested as the SDK built them; timers are never split, so
  // the long-timer durations (which the SDK parses with moment on every replay) are left out.
  upperSchemaVersion: 1,
  defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
};
const TRIGGER_TAIL = `,${JSON.stringify(TRIGGER_FIXED).slice(1)}`;

/** Events the SDK's replay acts on; it skips the scheduling records (TaskScheduled, ...). */
const SDK_READS = new Set<number>([
  EventType.OrchestratorStarted,
  EventType.ExecutionStarted,
  EventType.TaskCompleted,
  EventType.TaskFailed,
  EventType.SubOrchestrationInstanceCompleted,
  EventType.SubOrchestrationInstanceFailed,
  EventType.TimerFired,
  EventType.EventRaised,
  EventType.EventSent,
]);
const sdkReads = (e: HistoryEvent): boolean => SDK_READS.has(e.EventType);

/**
 * The JSON text the SDK replays for an event, or undefined for an event it skips. Of the
 * common fields it reads `IsPlayed` only on completions (a task's `isPlayed`), `EventId`
 * only on EventSent (the entity request it answers) and `Timestamp` only on
 * OrchestratorStarted (`currentUtcDateTime`); the rest would only cost it work on every
 * replay (it walks every field of the input and parses every Timestamp into a Date).
 */
export function replayText(e: HistoryEvent): string | undefined {
  if (!sdkReads(e)) return undefined;
  const { EventType: type, EventId, IsPlayed, Timestamp, ...fields } = e;
  switch (type) {
    case EventType.OrchestratorStarted:
      return JSON.stringify({ EventType: type, Timestamp });
    case EventType.ExecutionStarted:
      return JSON.stringify({ EventType: type, ...fields });
    case EventType.EventSent:
      return JSON.stringify({ EventType: type, ...fields, EventId });
    default:
      return JSON.stringify({ EventType: type, IsPlayed, ...fields });
  }
}

// `event()` puts IsPlayed before any user data (and `replayText` keeps the order), so the
// first match is the flag itself.
const NOT_PLAYED = '"IsPlayed":false';
const PLAYED = '"IsPlayed":true';

/** The trigger input's JSON for the state's execution, `replay` being the events' JSON texts. */
export function triggerJson(s: ReplayState, replay: readonly string[]): string {
  return (
    `{"history":[${replay.join(',')}]` +
    (s.input === undefined ? '' : `,"input":${s.input}`) +
    `,"instanceId":${JSON.stringify(s.instanceId)}` +
    (s.parent === undefined ? '' : `,"parentInstanceId":${JSON.stringify(s.parent.InstanceId)}`) +
    TRIGGER_TAIL
  );
}

/** The events from `from` on were played (their episode ended): the next replay sees them so. */
export function markPlayed(replay: string[], from: number): void {
  for (let i = from; i < replay.length; i++) replay[i] = (replay[i] as string).replace(NOT_PLAYED, PLAYED);
}

/**
 * Drops what an episode's SDK objects hold once the SDK's handler has settled (a port calls
 * it with the trigger value and the context it gave the handler; see
 * FunctionPort.runOrchestrator): the parsed history and the context's `df` (the SDK's
 * orchestration context, its executor, tasks and actions). The SDK runs an episode in
 * generator functions it creates on every call (TypeScript's `__awaiter`), which close over
 * the trigger and the context. V8 gives each such function an initial map in the old
 * generation that points back to it, so what it closes over stays reachable until the next
 * full GC, and every young-generation GC until then copies, then promotes, it all. Dropped,
 * it dies young: in the 100-step sequence, 2 MB of the 14 MB allocated between two
 * scavenges survived them (each pause 3 to 25 ms, on all cores), 0.25 MB once dropped.
 */
export function releaseEpisode(trigger: unknown, context: unknown): void {
  const history = (trigger as { history?: unknown } | null)?.history;
  if (Array.isArray(history)) history.length = 0;
  if (context !== null && typeof context === 'object' && 'df' in context) delete (context as { df?: unknown }).df;
}

/** One replay of the orchestrator by the SDK, its answer (or failure) parsed. */
export async function replayEpisode(fns: FunctionPort, s: ReplayState, replay: readonly string[]): Promise<OrchestratorResult> {
  try {
    return parseOrchestratorState(await fns.runOrchestrator(s.name, triggerJson(s, replay)), s.actionCount);
  } catch (err) {
    return parseOrchestratorFailure(err);
  }
}
