import { Membership } from './membership';
import { blockEnvelopes, lastConfigIndex } from './blocks';
import { decodeConfigTransaction, type ChannelConfig } from './channelConfig';
import type { LedgerStore } from './store';

/**
 * The channel as of the last config block validated: its configuration, the membership it
 * defines (application organizations: who may transact and endorse), and the orderer's
 * organization (who signs config blocks). Config blocks replace it as they are ordered, so
 * the gateway, the validator and a replay in `ledger verify` all see the membership in force
 * at each block.
 *
 * A ledger written before the channel had a configuration has none until its first config
 * block (derived at start from the CAs present, see peer.ts): until then membership is every
 * CA in the data dir and the one endorser was the peer's own organization, the rules those
 * blocks were written under.
 */
export class ChannelState {
  #config: ChannelConfig | undefined;
  #membership: Membership;
  #orderer: Membership | undefined;
  readonly legacyEndorserMspId: string;

  constructor(initial: ChannelConfig | { legacy: Membership; endorserMspId: string }) {
    if ('legacy' in initial) {
      this.#config = undefined;
      this.#membership = initial.legacy;
      this.legacyEndorserMspId = initial.endorserMspId;
    } else {
      this.#config = initial;
      this.#membership = new Membership(initial.orgs);
      this.#orderer = new Membership([initial.orderer]);
      this.legacyEndorserMspId = '';
    }
  }

  get config(): ChannelConfig | undefined {
    return this.#config;
  }

  get membership(): Membership {
    return this.#membership;
  }

  /** The membership in force, for a service that keeps the channel rather than one membership. */
  resolve(creator: Uint8Array): ReturnType<Membership['resolve']> {
    return this.#membership.resolve(creator);
  }

  verify(creator: Uint8Array, message: Uint8Array, signature: Uint8Array): ReturnType<Membership['verify']> {
    return this.#membership.verify(creator, message, signature);
  }

  /** The application organizations' MSP ids (over which `MAJORITY Endorsement` counts). */
  get orgMspIds(): string[] {
    return this.#config?.orgs.map((o) => o.mspId) ?? [];
  }

  /** The orderer's membership: of the configuration in force, or, before there is one, the
   * orderer that is about to write the first. */
  ordererMembership(proposed: ChannelConfig): Membership {
    return this.#orderer ?? new Membership([proposed.orderer]);
  }

  apply(config: ChannelConfig): void {
    this.#config = config;
    this.#membership = new Membership(config.orgs);
    this.#orderer = new Membership([config.orderer]);
  }
}

/** The configuration in force at the end of the stored chain: the config block the last
 * block's LAST_CONFIG names (an index of 0 encodes as nothing, so then block 0 is read); none
 * for a ledger written before the channel had one. */
export function storedChannelConfig(store: Pick<LedgerStore, 'lastBlock' | 'block'>): ChannelConfig | undefined {
  const last = store.lastBlock();
  if (last === undefined) return undefined;
  const index = lastConfigIndex(store.block(last.number)!.bytes) ?? 0;
  const block = store.block(index);
  const [envelope] = block === undefined ? [] : blockEnvelopes(block.bytes);
  return envelope === undefined ? undefined : decodeConfigTransaction(envelope)?.config;
}
