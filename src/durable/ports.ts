/**
 * How the engine reaches user code: the orchestrator and activity functions the app
 * registered with `df.app.orchestration` / `df.app.activity`. The embedded host
 * implements it by invoking the registered function with trigger input (hostExtension.ts);
 * tests may implement it with the SDK's handlers directly. The engine knows nothing else
 * about the SDK.
 */

/**
 * The orchestration trigger input of the out-of-proc protocol (the SDK's
 * `DurableOrchestrationBindingInfo`): the whole history of the current execution, the
 * input, the instance id. The SDK's handler replays it and returns its state.
 */
export interface OrchestrationTriggerInput {
  history: readonly unknown[];
  input?: unknown;
  instanceId: string;
  isReplaying: boolean;
  parentInstanceId?: string | undefined;
  upperSchemaVersion: number;
  /** Only read by the SDK for replay schema V3 (long timers split into shorter ones). */
  longRunningTimerIntervalDuration?: string;
  maximumShortTimerDuration?: string;
  defaultHttpAsyncRequestSleepTimeMillseconds: number;
}

export interface FunctionPort {
  /** Whether an orchestrator with this name is registered. */
  hasOrchestrator(name: string): boolean;
  /**
   * Runs the orchestrator's trigger handler with an `OrchestrationTriggerInput` as JSON
   * text (the engine builds it incrementally; the host passes JSON on anyway). Resolves with what the handler returned
   * (the SDK's `OrchestratorState`); rejects with what it threw (for an orchestrator that
   * failed, the SDK's `OrchestrationFailureError` carrying the state). Once the handler has
   * settled, the port drops the episode's objects (`releaseEpisode`, triggerInput.ts): the
   * SDK keeps the trigger and the context reachable until a full GC.
   */
  runOrchestrator(name: string, triggerJson: string): Promise<unknown>;
  /**
   * Runs an activity with its input as JSON text (the text the engine stores, which a host
   * hands on as the trigger's JSON); resolves with the JSON text of its result (`null` for
   * none), which is what the engine records.
   */
  runActivity(name: string, inputJson: string, instanceId: string): Promise<string>;
  /** Whether an entity function with this name (any case) is registered. */
  hasEntity(name: string): boolean;
  /**
   * Runs the entity function's trigger handler with a `DurableEntityBindingInfo` as JSON
   * text; resolves with what it returned (the SDK's `EntityState`).
   */
  runEntity(name: string, triggerJson: string): Promise<unknown>;
}
