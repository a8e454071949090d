import { randomBytes } from 'node:crypto';
import { LedgerflowError, notFound, forbidden, validationError, toLedgerflowError, type ErrorDetail } from '../../core/errors';
import { newDataKey, sealLocation, unsealLocation } from '../../core/crypto/seal';
import { credentialName, dataKeyName } from '../../core/secretNames';
import type { Caller, DatasetRecord, LeasePolicy, LeaseRecord, Page, StorageKind } from '../../core/model';
import type { DatasetQuery, Ledger, LedgerSession } from '../../ports/ledger';
import type { KeyStore, KeyStores } from '../../ports/keyStore';
import type { DatasetLocation, DatasetSource, DatasetStorage, TreeEntry } from '../../ports/datasetStorage';
import type { Logger } from '../../observability/logger';
import { leaseTtl, resolvePolicy, type PolicyInput } from '../../core/datasets/policy';
import {
  isLeaseCurrent,
  publicDataset,
  publicHistoryEntry,
  publicLease,
  type PublicDataset,
  type PublicHistoryEntry,
  type PublicLease,
} from '../../core/datasets/views';

/**
 * The dataset and lease use cases, over the ports only. Authorization that the ledger
 * cannot see (who may list a tree) is decided here; ownership and lease holding are
 * decided by the chaincode from the caller's identity.
 */
export interface DatasetServiceDeps {
  ledger: Ledger;
  keyStores: KeyStores;
  storage(kind: StorageKind): DatasetStorage;
  /** Where uploads go when the owner names no source (setting STORAGE). */
  defaultStorage: StorageKind;
  defaultLeaseTtlSeconds: number;
  logger: Logger;
  now?: () => Date;
  newId?: () => string;
}

export interface RegisterInput {
  name: string;
  description?: string | undefined;
  policy?: PolicyInput | undefined;
  source?: DatasetSource | undefined;
  files?: Record<string, string> | undefined;
}

export interface UpdateInput {
  name?: string | undefined;
  description?: string | undefined;
  policy?: PolicyInput | undefined;
}

export interface DeleteResult {
  dataset: PublicDataset;
  /** Whether the dataset's keys were purged (false, with the store's reason, under purge protection). */
  cryptoShred: { purged: boolean; reason?: string };
}

export interface TreePage {
  datasetId: string;
  items: TreeEntry[];
  nextCursor?: string;
}

export class DatasetService {
  private readonly now: () => Date;
  private readonly newId: () => string;
  /** Per dataset, the lease takes queued in this process (see takeLease). */
  private readonly takes = new Map<string, TakeQueue>();
  constructor(private readonly deps: DatasetServiceDeps) {
    this.now = deps.now ?? (() => new Date());
    this.newId = deps.newId ?? (() => randomBytes(16).toString('hex'));
  }

  async register(caller: Caller, input: RegisterInput): Promise<PublicDataset> {
    const { policy, problems } = resolvePolicy(input.policy, { defaultTtlSeconds: this.deps.defaultLeaseTtlSeconds });
    if (problems.length > 0) throw validationError('invalid dataset', problems);
    const id = this.newId();
    const log = this.deps.logger.child({ datasetId: id });
    const keyStore = this.deps.keyStores.forOrg(caller.org);
    const files = input.files ?? {};
    // Each step pushes its undo; on failure they run in reverse so nothing half-stored remains.
    const undo: { what: string; run: () => Promise<unknown> }[] = [];
    try {
      const storage = this.deps.storage(input.source?.kind ?? this.deps.defaultStorage);
      const stored = input.source === undefined ? await storage.create(id, files) : await storage.adopt(id, input.source, files, caller.org);
      undo.push({ what: 'storage', run: () => storage.remove(stored.location, stored.credential) });
      const dataKey = newDataKey();
      await keyStore.set(dataKeyName(id), dataKey);
      undo.push({ what: 'data key', run: () => keyStore.destroy(dataKeyName(id)) });
      if (stored.credential !== undefined) {
        await keyStore.set(credentialName(id), stored.credential);
        undo.push({ what: 'credential', run: () => keyStore.destroy(credentialName(id)) });
      }
      const record = await this.session(caller).registerDataset({
        id,
        name: input.name,
        description: input.description ?? '',
        policy,
        storageKind: stored.location.kind,
        sealedLocation: sealLocation(stored.location, dataKey, id),
        ...(stored.contentHash === undefined ? {} : { contentHash: stored.contentHash }),
      });
      log.info({ owner: caller.org, storageKind: record.storageKind }, 'dataset registered');
      return publicDataset(record, this.now());
    } catch (err) {
      for (const step of undo.reverse()) {
        await step
          .run()
          .catch((undoErr: unknown) => log.error({ err: toLedgerflowError(undoErr).message, step: step.what }, 'undo after failed registration failed'));
      }
      throw err;
    }
  }

  async list(caller: Caller, query: Omit<DatasetQuery, 'includeDeleted'>): Promise<Page<PublicDataset>> {
    const page = await this.session(caller).listDatasets({ ...query, includeDeleted: false });
    const now = this.now();
    return { items: page.items.map((r) => publicDataset(r, now)), ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }) };
  }

  async get(caller: Caller, id: string): Promise<PublicDataset> {
    return publicDataset(await this.live(this.session(caller), id), this.now());
  }

  async update(caller: Caller, id: string, input: UpdateInput): Promise<PublicDataset> {
    const session = this.session(caller);
    const current = await this.live(session, id);
    assertOwner(caller, current);
    let policy: LeasePolicy | undefined;
    if (input.policy !== undefined) {
      const resolved = resolvePolicy(input.policy, current.policy);
      if (resolved.problems.length > 0) throw validationError('invalid dataset', resolved.problems);
      policy = resolved.policy;
    }
    const record = await session.updateDataset(id, {
      ...(input.name === undefined ? {} : { name: input.name }),
      ...(input.description === undefined ? {} : { description: input.description }),
      ...(policy === undefined ? {} : { policy }),
    });
    return publicDataset(record, this.now());
  }

  /**
   * A new content version, by the owner organization: the storage writes it as a new
   * versioned directory (the current one stays as it is for the runs reading it), then the
   * ledger records its number and content hash (`dataset-updated`). A version the ledger
   * refuses (a racing push took the number, the caller is no owner) is removed again.
   */
  async pushFiles(caller: Caller, id: string, input: { files: Record<string, string>; replace: boolean }): Promise<PublicDataset> {
    const session = this.session(caller);
    const current = await this.live(session, id);
    assertOwner(caller, current);
    const { location } = await this.open(this.deps.keyStores.forOrg(current.owner.org), current, 1);
    const versions = this.deps.storage(location.kind).versions;
    if (versions === undefined || !versions.supports(location)) {
      throw new LedgerflowError(
        'bad_request',
        `dataset ${id} keeps its data in storage its owner changes directly (adopted or ${current.storageKind}): it takes no pushed versions`,
      );
    }
    const from = current.version ?? 1;
    const change = { from, to: from + 1, files: input.files, replace: input.replace };
    const { contentHash } = await versions.add(location, change);
    let record: DatasetRecord;
    try {
      record = await session.updateDatasetContent(id, { version: change.to, contentHash });
    } catch (err) {
      await versions.discard(location, change.to);
      throw err;
    }
    this.deps.logger.info({ datasetId: id, version: change.to, files: Object.keys(input.files).length, replace: input.replace }, 'dataset version added');
    return publicDataset(record, this.now());
  }

  /** Tombstones the dataset on the ledger, removes platform-created data, then destroys its
   * keys: without the data key the sealed location can never be opened again. */
  async delete(caller: Caller, id: string): Promise<DeleteResult> {
    const session = this.session(caller);
    const current = await this.live(session, id);
    assertOwner(caller, current);
    const log = this.deps.logger.child({ datasetId: id });
    const keyStore = this.deps.keyStores.forOrg(current.owner.org);
    // Version 1's location is the dataset's base: removing it removes every version.
    const opened = await this.open(keyStore, current, 1).catch((err: unknown) => {
      log.warn({ err: toLedgerflowError(err).message }, 'dataset location could not be opened; deleting without removing data');
      return undefined;
    });
    const record = await session.deleteDataset(id);
    if (opened !== undefined) {
      await this.deps
        .storage(opened.location.kind)
        .remove(opened.location, opened.credential)
        .catch((err: unknown) => log.error({ err: toLedgerflowError(err).message }, 'removing dataset data failed'));
    }
    const results = [await keyStore.destroy(dataKeyName(id))];
    if (current.storageKind === 'azure-files') results.push(await keyStore.destroy(credentialName(id)));
    const refused = results.find((r) => !r.purged);
    const cryptoShred = refused === undefined ? { purged: true } : { purged: false, reason: refused.reason ?? 'the key store kept a recoverable copy' };
    log.info({ purged: cryptoShred.purged }, 'dataset deleted');
    return { dataset: publicDataset(record, this.now()), cryptoShred };
  }

  async tree(caller: Caller, id: string, paging: { limit: number; cursor?: string | undefined }): Promise<TreePage> {
    const { location, credential } = await this.locate(caller, id, 'list');
    const entries = await this.deps.storage(location.kind).tree(location, credential);
    return { datasetId: id, ...pageOf(entries, paging.limit, paging.cursor) };
  }

  /**
   * Where a dataset's data is, and the credential to reach it, for its owner or its current
   * lease holder: what a workflow activity needs to mount it. The credential is a secret:
   * hand it to compute as a mounted secret only, never into orchestration state or a log.
   */
  async locate(caller: Caller, id: string, purpose = 'use'): Promise<{ location: DatasetLocation; credential: string | undefined }> {
    const current = await this.live(this.session(caller), id);
    const isOwner = caller.org === current.owner.org;
    const isLessee = isLeaseCurrent(current.lease, this.now()) && current.lease.holder.org === caller.org && current.lease.holder.user === caller.user;
    if (!isOwner && !isLessee) throw forbidden(`only the owner or the current lease holder may ${purpose} dataset ${id}`);
    return this.open(this.deps.keyStores.forOrg(current.owner.org), current);
  }

  /**
   * Takes of one dataset run one after another in this process: of N callers racing, the
   * first submits and the others are refused without a transaction, instead of N
   * transactions of which N-1 fail MVCC validation and retry (2,000 racing requests took
   * seconds each). A take is refused without asking the ledger when a take ahead of it in
   * the queue saw the lease held at a moment inside its own request: a read of the ledger
   * sent after it arrived (the read answers every take queued before it was sent, not only
   * its own), or a take that committed while it waited (its lease was taken while the
   * request was in flight). Either is an answer the ledger could have given it. Otherwise
   * it reads the dataset and is refused when the ledger shows it held (the holder's own take
   * included, as the chaincode refuses it). The chaincode still decides every take that is
   * submitted, so takes from other hosts stay correct; this only saves the doomed ones.
   */
  takeLease(caller: Caller, id: string, requestedTtlSeconds: number | undefined): Promise<PublicLease> {
    const queue = this.takes.get(id) ?? { tail: Promise.resolve(), arrived: 0 };
    const arrival = ++queue.arrived;
    const run = queue.tail.then(async () => {
      const seen = queue.seenHeld;
      if (seen !== undefined && arrival <= seen.answers && isLeaseCurrent(seen.lease, this.now())) throw seen.refusal;
      return publicLease(await this.takeNow(caller, id, requestedTtlSeconds, queue));
    });
    const settled = run.catch(() => undefined);
    queue.tail = settled;
    this.takes.set(id, queue);
    void settled.then(() => {
      if (queue.tail === settled) this.takes.delete(id);
    });
    return run;
  }

  private async takeNow(caller: Caller, id: string, requestedTtlSeconds: number | undefined, queue: TakeQueue): Promise<LeaseRecord> {
    const session = this.session(caller);
    // Every take queued so far arrived before this read is sent.
    const readAnswers = queue.arrived;
    const current = await this.live(session, id);
    // What the chaincode would answer (it refuses any take of a lease still running, the
    // holder's own included), from the state just read: no transaction for a doomed take.
    if (isLeaseCurrent(current.lease, this.now())) {
      queue.seenHeld = heldFor(current.lease, readAnswers);
      throw queue.seenHeld.refusal;
    }
    const { ttlSeconds, problems } = leaseTtl(requestedTtlSeconds, current.policy);
    if (problems.length > 0) throw validationError('invalid lease request', problems);
    const lease = await session.takeLease(id, ttlSeconds);
    queue.seenHeld = heldFor(lease, queue.arrived);
    this.deps.logger.info({ datasetId: id, holder: caller, expiresAt: lease.expiresAt }, 'lease taken');
    return lease;
  }

  async releaseLease(caller: Caller, id: string): Promise<void> {
    const session = this.session(caller);
    await this.live(session, id);
    await session.releaseLease(id);
    this.deps.logger.info({ datasetId: id, by: caller }, 'lease released');
  }

  async history(caller: Caller, id: string): Promise<PublicHistoryEntry[]> {
    const session = this.session(caller);
    if ((await session.getDataset(id)) === undefined) throw notFound(`dataset ${id}`);
    return (await session.datasetHistory(id)).map(publicHistoryEntry);
  }

  /** Expires overdue leases as `platform` (the chaincode refuses anyone else); returns what expired. */
  async expireLeases(platform: Caller): Promise<PublicLease[]> {
    const expired = await this.session(platform).expireLeases();
    for (const lease of expired) this.deps.logger.info({ datasetId: lease.datasetId, holder: lease.holder.org }, 'lease expired');
    return expired.map(publicLease);
  }

  private session(caller: Caller): LedgerSession {
    return this.deps.ledger.as(caller);
  }

  private async live(session: LedgerSession, id: string): Promise<DatasetRecord> {
    const record = await session.getDataset(id);
    if (record === undefined) throw notFound(`dataset ${id}`);
    if (record.deletedAt !== undefined) throw new LedgerflowError('gone', `dataset ${id} was deleted`);
    return record;
  }

  /** The location of `version` (default: the current one), and its credential. */
  private async open(
    keyStore: KeyStore,
    record: DatasetRecord,
    version = record.version ?? 1,
  ): Promise<{ location: DatasetLocation; credential: string | undefined }> {
    const dataKey = await keyStore.get(dataKeyName(record.id));
    if (dataKey === undefined) throw new LedgerflowError('gone', `the key of dataset ${record.id} is gone`);
    const sealed = unsealLocation(record.sealedLocation, dataKey, record.id);
    const location = this.deps.storage(sealed.kind).versions?.at(sealed, version) ?? sealed;
    const credential = location.kind === 'azure-files' ? await keyStore.get(location.credentialRef) : undefined;
    return { location, credential };
  }
}

/** The lease takes of one dataset queued in this process (DatasetService.takeLease). */
interface TakeQueue {
  /** The last take queued. */
  tail: Promise<unknown>;
  /** How many takes have arrived; each take's number is its place in the queue. */
  arrived: number;
  /** The lease a take of this queue saw held (read or committed), and the takes (by number,
   * up to `answers`) that were in flight when it did. */
  seenHeld?: SeenHeld;
}

/** One refusal per sighting, thrown to every take it answers: the answer is the same for
 * all of them, and making an Error (its stack) per loser was ~1% of the lease race's main
 * thread. Nothing changes a thrown LedgerflowError; the error response only reads it. */
interface SeenHeld {
  lease: LeaseRecord;
  answers: number;
  refusal: LedgerflowError;
}

const heldFor = (lease: LeaseRecord, answers: number): SeenHeld => ({ lease, answers, refusal: leaseHeld(lease) });

function assertOwner(caller: Caller, record: DatasetRecord): void {
  if (caller.org !== record.owner.org) throw forbidden('only the owning organization may change or delete a dataset');
}

/** Offset paging over an in-memory list; the cursor is the opaque offset of the next item. */
export function pageOf<T>(items: readonly T[], limit: number, cursor: string | undefined): { items: T[]; nextCursor?: string } {
  let offset = 0;
  if (cursor !== undefined) {
    offset = Number.parseInt(Buffer.from(cursor, 'base64url').toString('utf8'), 10);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > items.length) {
      throw validationError('invalid paging', [{ path: 'cursor', message: 'is not a cursor from this listing' } satisfies ErrorDetail]);
    }
  }
  const end = offset + limit;
  return { items: items.slice(offset, end), ...(end < items.length ? { nextCursor: Buffer.from(String(end)).toString('base64url') } : {}) };
}

/** The chaincode's refusal of a take while `lease` runs, with the same code, message and data. */
function leaseHeld(lease: LeaseRecord): LedgerflowError {
  const { holder, expiresAt } = lease;
  return new LedgerflowError('lease_held', `dataset ${lease.datasetId} is leased by ${holder.user}@${holder.org} until ${expiresAt}`, {
    data: { holder, expiresAt },
  });
}
