'use strict';

const { AssetTransfer } = require('./lib/assetTransfer');

// What `fabric-chaincode-node start` reads from a chaincode package.
module.exports.AssetTransfer = AssetTransfer;
module.exports.contracts = [AssetTransfer];
