'use strict';

const { Contract } = require('fabric-contract-api');

/**
 * Assets keyed by id, as in Hyperledger's asset-transfer-basic sample, with the events of
 * asset-transfer-events (one per change, payload = the asset) and the key history reads a
 * client of a Fabric network can make. Written for the conformance suite: plain JavaScript,
 * no decorators, deterministic JSON (keys in a fixed order) so every endorser agrees.
 */
class AssetTransfer extends Contract {
  constructor() {
    super('AssetTransfer');
  }

  async CreateAsset(ctx, id, color, size, owner, appraisedValue) {
    if (await this.AssetExists(ctx, id)) {
      throw new Error(`The asset ${id} already exists`);
    }
    const asset = { ID: id, Color: color, Size: Number(size), Owner: owner, AppraisedValue: Number(appraisedValue) };
    return this.#put(ctx, 'CreateAsset', asset);
  }

  async ReadAsset(ctx, id) {
    const bytes = await ctx.stub.getState(id);
    if (bytes === undefined || bytes.length === 0) {
      throw new Error(`The asset ${id} does not exist`);
    }
    return Buffer.from(bytes).toString('utf8');
  }

  async UpdateAsset(ctx, id, color, size, owner, appraisedValue) {
    await this.ReadAsset(ctx, id);
    const asset = { ID: id, Color: color, Size: Number(size), Owner: owner, AppraisedValue: Number(appraisedValue) };
    return this.#put(ctx, 'UpdateAsset', asset);
  }

  async TransferAsset(ctx, id, newOwner) {
    const asset = JSON.parse(await this.ReadAsset(ctx, id));
    const oldOwner = asset.Owner;
    asset.Owner = newOwner;
    await this.#put(ctx, 'TransferAsset', asset);
    return oldOwner;
  }

  async DeleteAsset(ctx, id) {
    const asset = await this.ReadAsset(ctx, id);
    await ctx.stub.deleteState(id);
    ctx.stub.setEvent('DeleteAsset', Buffer.from(asset));
  }

  async AssetExists(ctx, id) {
    const bytes = await ctx.stub.getState(id);
    return bytes !== undefined && bytes.length > 0;
  }

  async GetAllAssets(ctx) {
    const all = [];
    for await (const { value } of ctx.stub.getStateByRange('', '')) {
      all.push(JSON.parse(Buffer.from(value).toString('utf8')));
    }
    return JSON.stringify(all);
  }

  async GetAssetHistory(ctx, id) {
    const history = [];
    for await (const entry of ctx.stub.getHistoryForKey(id)) {
      history.push({
        txId: entry.txId,
        isDelete: entry.isDelete,
        value: entry.isDelete ? null : JSON.parse(Buffer.from(entry.value).toString('utf8')),
      });
    }
    return JSON.stringify(history);
  }

  /** The creator's MSP id, as a client identity check would read it. */
  async WhoAmI(ctx) {
    return ctx.clientIdentity.getMSPID();
  }

  async #put(ctx, eventName, asset) {
    const json = JSON.stringify({
      AppraisedValue: asset.AppraisedValue,
      Color: asset.Color,
      ID: asset.ID,
      Owner: asset.Owner,
      Size: asset.Size,
    });
    await ctx.stub.putState(asset.ID, Buffer.from(json));
    ctx.stub.setEvent(eventName, Buffer.from(json));
    return json;
  }
}

module.exports = { AssetTransfer };
