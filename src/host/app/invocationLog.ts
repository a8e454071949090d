import type { Logger } from '../../observability/logger';
import type { RpcLogCategory, RpcLogLevel } from '../wire/rpcTypes';
import type { InvocationState } from './coreTypes';
import type { HookRegistry } from './hooks';

const PINO_LEVEL: Record<RpcLogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | undefined> = {
  trace: 'trace',
  debug: 'debug',
  information: 'info',
  warning: 'warn',
  error: 'error',
  critical: 'fatal',
  none: undefined,
};

export function writeLog(logger: Logger, level: RpcLogLevel, category: RpcLogCategory, message: string): void {
  const pinoLevel = PINO_LEVEL[level];
  if (pinoLevel !== undefined) logger[pinoLevel]({ category }, message);
}

/**
 * What an invocation's log lines go through: the `log` hooks, then the host's logger with
 * the function's name and the invocation id. A class, not a `log` closure, so an
 * invocation allocates no closure (and its scope) for it.
 */
export class InvocationLog {
  state?: InvocationState;
  /** The model's context for the function, once made (what log hooks are shown). */
  invocationContext: unknown;
  /** Most invocations write no log line: the child logger (its bindings serialised and
   * redacted) is made for the first one. */
  #log: Logger | undefined;

  constructor(
    private readonly hooks: HookRegistry,
    private readonly logger: Logger,
    protected readonly functionName: string,
    readonly invocationId: string,
  ) {}

  /** `invocationContext`: the context log hooks are shown, when this log does not keep it. */
  log(level: RpcLogLevel, category: RpcLogCategory, message: string, invocationContext = this.invocationContext): void {
    const { hooks, logger } = this;
    let line = { level, message };
    if (category === 'user' && hooks.has('log')) {
      const hookCtx = hooks.context({}, { category, level, message }, invocationContext);
      hooks.runSync('log', hookCtx);
      line = { level: hookCtx.level, message: hookCtx.message };
    }
    // A line below the host's level (e.g. an API error answer at info, under LOG_LEVEL=warn)
    // makes no child logger (one per 409 answer was measurable in the lease race).
    const pinoLevel = PINO_LEVEL[line.level];
    if (pinoLevel === undefined || !logger.isLevelEnabled(pinoLevel)) return;
    this.#log ??= logger.child({ functionName: this.functionName, invocationId: this.invocationId });
    writeLog(this.#log, line.level, category, line.message);
  }
}
