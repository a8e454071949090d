/** A start-up failure the operator fixes by changing configuration (a setting, host.json,
 * the app's package.json, a busy port): main.ts prints its message alone, no stack. */
export class HostConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HostConfigError';
  }
}
