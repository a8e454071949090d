/** Work the host must let finish before it stops: invocations, HTTP requests, engine steps. */
export class InFlight {
  #size = 0;
  /** Called when nothing is left in flight. */
  #idle: (() => void)[] = [];

  get size(): number {
    return this.#size;
  }

  // A count rather than a set of the promises: every invocation passes here, and `drain`
  // only needs to know when the count reaches zero.
  readonly #end = (): void => {
    if (--this.#size > 0) return;
    const idle = this.#idle;
    this.#idle = [];
    for (const f of idle) f();
  };

  track = <T>(work: Promise<T>): Promise<T> => {
    this.#size++;
    work.then(this.#end, this.#end);
    return work;
  };

  /** Waits until nothing is in flight (work may start more work) or the timeout passes;
   * resolves with how many are still running. */
  async drain(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.#size > 0 && Date.now() < deadline) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.#idle.push(resolve);
        timer = setTimeout(resolve, deadline - Date.now());
      });
      clearTimeout(timer);
    }
    return this.#size;
  }
}
