import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname } from 'node:path';

// What `fabric-chaincode-node start` does with the package before it talks to a peer:
// read package.json's main, take its `contracts`, and build the contract dispatcher.
interface Bootstrap {
  getInfoFromContract(modulePath: string): { contracts: unknown[]; serializers: object; title: string; version: string };
  getMetadata(modulePath: string): Promise<object>;
}
interface TransactionMeta {
  name: string;
  tag: string[];
  parameters?: { name: string; schema: { type: string } }[];
  returns?: { type: string };
}
type Dispatcher = { metadata: { contracts: Record<string, { transactions: TransactionMeta[] }> } };

test('the chaincode package loads as fabric-chaincode-node loads it, with ledgerflow as the default contract', async () => {
  const Bootstrap = require('fabric-shim/lib/contract-spi/bootstrap') as Bootstrap;
  const ChaincodeFromContract = require('fabric-shim/lib/contract-spi/chaincodefromcontract') as new (
    ...args: unknown[]
  ) => Dispatcher & { defaultContractName: string };
  const dir = dirname(require.resolve('@ledgerflow/chaincode/package.json'));
  const info = Bootstrap.getInfoFromContract(dir);
  assert.equal(info.title, '@ledgerflow/chaincode');
  const dispatcher = new ChaincodeFromContract([...info.contracts], info.serializers, await Bootstrap.getMetadata(dir), info.title, info.version);
  assert.equal(dispatcher.defaultContractName, 'ledgerflow');

  const txs = dispatcher.metadata.contracts.ledgerflow.transactions;
  const byTag = (tag: string) =>
    txs
      .filter((t) => t.tag.includes(tag))
      .map((t) => t.name)
      .sort();
  assert.deepEqual(byTag('SUBMIT'), [
    'DecideApprovals',
    'DecideResults',
    'DeleteDataset',
    'ExpireLeases',
    'RecordWorkflowCleanedUp',
    'RecordWorkflowFinished',
    'RecordWorkflowLaunched',
    'RegisterDataset',
    'ReleaseLease',
    'RequestApprovals',
    'TakeLease',
    'UpdateDataset',
    'UpdateDatasetContent',
  ]);
  assert.deepEqual(byTag('EVALUATE'), [
    'DatasetHistory',
    'ListApprovals',
    'ListDatasets',
    'ReadApprovals',
    'ReadDataset',
    'ReadLease',
    'ReadWorkflow',
    'WorkflowTrail',
  ]);
  for (const t of txs) {
    assert.equal(t.returns?.type, 'string', `${t.name} returns JSON text`);
    for (const p of t.parameters ?? []) assert.equal(p.schema.type, 'string', `${t.name}(${p.name}) takes a string`);
  }
  assert.deepEqual(
    txs.find((t) => t.name === 'TakeLease')?.parameters?.map((p) => p.name),
    ['id', 'ttlSeconds'],
  );
});
