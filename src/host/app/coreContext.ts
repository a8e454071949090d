import type { RpcFunctionMetadata, RpcInvocationRequest } from '../wire/rpcTypes';
import type { CoreInvocationContext } from './coreTypes';
import { InvocationLog } from './invocationLog';
import type { InvokeDeps } from './invocationTypes';
import type { RegisteredFunction } from './registry';

/** The core context the programming model is given. The model keeps this object in a
 * WeakMap entry until the next full GC, so it holds little. */
export class CoreContext extends InvocationLog implements CoreInvocationContext {
  readonly metadata: RpcFunctionMetadata;

  constructor(
    deps: InvokeDeps,
    fn: RegisteredFunction,
    invocationId: string,
    readonly request: RpcInvocationRequest,
  ) {
    super(deps.hooks, deps.logger, fn.name, invocationId);
    this.metadata = fn.metadata;
  }
}
