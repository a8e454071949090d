import { EventType, eventTypeName, fromJsonText, type HistoryEvent } from './history';
import type { InstanceRow } from './store';

/**
 * The instance status the management API returns, field for field as the Durable
 * extension's HttpApiHandler writes it (`StatusResponsePayload`): name, instanceId,
 * runtimeStatus, input, customStatus, output, createdTime, lastUpdatedTime (ISO seconds,
 * `Z`), and `historyEvents` only when asked for. A failed instance also carries
 * `failureDetails` (errorType, errorMessage, stackTrace), as the isolated-worker API shows
 * it: the stack trace goes there, never into `output`.
 */
export interface StatusView {
  name: string;
  instanceId: string;
  runtimeStatus: string;
  input: unknown;
  customStatus: unknown;
  output: unknown;
  createdTime: string;
  lastUpdatedTime: string;
  historyEvents?: Record<string, unknown>[];
  failureDetails?: { errorType: string; errorMessage: string; stackTrace: string | null };
}

export interface ViewOptions {
  showInput: boolean;
  showHistoryOutput?: boolean;
}

/** `DateTime.ToString("s") + "Z"`: seconds precision. The last second's text is kept: the
 * status reads of a busy host show the same few seconds over and over. */
let lastSecond = NaN;
let lastText = '';
function isoSeconds(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== lastSecond) {
    lastText = new Date(second * 1000).toISOString().replace('.000Z', 'Z');
    lastSecond = second;
  }
  return lastText;
}

export function statusView(row: InstanceRow, o: ViewOptions, history?: readonly HistoryEvent[]): StatusView {
  const view: StatusView = {
    name: row.name,
    instanceId: row.instanceId,
    runtimeStatus: row.status,
    input: o.showInput ? (fromJsonText(row.input) ?? null) : null,
    customStatus: fromJsonText(row.customStatus) ?? null,
    output: fromJsonText(row.output) ?? null,
    createdTime: isoSeconds(row.createdAt),
    lastUpdatedTime: isoSeconds(row.updatedAt),
  };
  // The extension shows no history for an instance that has not started.
  if (history !== undefined && row.status !== 'Pending') view.historyEvents = historyView(history, o);
  if (row.failure) {
    view.failureDetails = { errorType: row.failure.type ?? 'Error', errorMessage: row.failure.message, stackTrace: row.failure.details ?? null };
  }
  return view;
}

/**
 * The history as DurableClient.GetDurableOrchestrationStatusAsync reshapes it: event types
 * by name; no OrchestratorStarted/OrchestratorCompleted; a TaskScheduled or
 * SubOrchestrationInstanceCreated that has a completion is folded into it (FunctionName,
 * ScheduledTime, its Input) and dropped; ExecutionStarted's Name becomes FunctionName;
 * results only with showHistoryOutput (parsed as JSON), inputs only with showInput; no
 * EventId, IsPlayed, TimerId, TaskScheduledId, Version, OrchestrationInstance or
 * ParentInstance. The engine's own bookkeeping (Retry, RetryOf, ActionCount) never shows.
 */
export function historyView(history: readonly HistoryEvent[], o: ViewOptions): Record<string, unknown>[] {
  const scheduled = new Map<string, { index: number; name: string; time: string; input: unknown }>();
  const dropped = new Set<number>();
  const out: Record<string, unknown>[] = [];
  history.forEach((e, i) => {
    const { EventType: type, IsPlayed: _p, EventId: eventId, ...rest } = e as HistoryEvent & Record<string, unknown>;
    const item: Record<string, unknown> = { EventType: eventTypeName(type) };
    for (const [k, v] of Object.entries(rest)) {
      if (k === 'Retry' || k === 'RetryOf' || k === 'ActionCount' || k === 'Version') continue;
      item[k] = v;
    }
    const fold = (prefix: string): void => {
      const s = scheduled.get(`${prefix}_${String(item['TaskScheduledId'])}`);
      delete item['TaskScheduledId'];
      if (s === undefined) return;
      item['ScheduledTime'] = s.time;
      item['FunctionName'] = s.name;
      if (o.showInput) item['Input'] = s.input;
      dropped.add(s.index);
    };
    const result = (keep: boolean): void => {
      if (keep) item['Result'] = fromJsonText(item['Result'] as string | undefined) ?? null;
      else delete item['Result'];
    };
    switch (type) {
      case EventType.TaskScheduled:
      case EventType.SubOrchestrationInstanceCreated:
        scheduled.set(`${String(type)}_${eventId}`, { index: i, name: String(item['Name']), time: e.Timestamp, input: item['Input'] ?? null });
        break;
      case EventType.TaskCompleted:
      case EventType.TaskFailed:
        fold(String(EventType.TaskScheduled));
        result(o.showHistoryOutput === true && type === EventType.TaskCompleted);
        break;
      case EventType.SubOrchestrationInstanceCompleted:
      case EventType.SubOrchestrationInstanceFailed:
        fold(String(EventType.SubOrchestrationInstanceCreated));
        result(o.showHistoryOutput === true && type === EventType.SubOrchestrationInstanceCompleted);
        break;
      case EventType.ExecutionStarted:
        item['FunctionName'] = item['Name'];
        delete item['Name'];
        delete item['OrchestrationInstance'];
        delete item['ParentInstance'];
        break;
      case EventType.ExecutionCompleted:
        result(o.showHistoryOutput === true);
        break;
      case EventType.TimerFired:
        delete item['TimerId'];
        break;
      case EventType.OrchestratorStarted:
      case EventType.OrchestratorCompleted:
        dropped.add(i);
        break;
    }
    if (!o.showInput) delete item['Input'];
    out.push(item);
  });
  return out.filter((_, i) => !dropped.has(i));
}
