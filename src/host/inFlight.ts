/** Work the host must let finish before it stops: invocations, HTTP requests, engine steps. */
export class InFlight {
  readonly #work = new Set<Promise<unknown>>();
  #lastActive = Date.now();

  get size(): number {
    return this.#work.size;
  }

  /** When work last started or ended (ms since the epoch). */
  get lastActive(): number {
    return this.#lastActive;
  }

  track = <T>(work: Promise<T>): Promise<T> => {
    this.#work.add(work);
    this.#lastActive = Date.now();
    const forget = () => {
      this.#work.delete(work);
      this.#lastActive = Date.now();
    };
    work.then(forget, forget);
    return work;
  };

  /** Waits until nothing is in flight (work may start more work) or the timeout passes;
   * resolves with how many are still running. */
  async drain(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.#work.size > 0 && Date.now() < deadline) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled([...this.#work]), new Promise((resolve) => (timer = setTimeout(resolve, deadline - Date.now())))]);
      clearTimeout(timer);
    }
    return this.#work.size;
  }
}
