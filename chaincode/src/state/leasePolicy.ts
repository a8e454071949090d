export interface LeasePolicy {
  /** Lease length when the taker names none. */
  leaseTtlSeconds: number;
  /** Longest lease a taker may ask for. */
  maxLeaseTtlSeconds: number;
}
