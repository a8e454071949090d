/** Who submitted a transaction, as read from the client certificate (never from arguments). */
export interface Identity {
  /** The certificate subject's CN. */
  user: string;
  /** Short organization name derived from the MSP id (`UisMSP` -> `uis`). */
  org: string;
  mspId: string;
}
