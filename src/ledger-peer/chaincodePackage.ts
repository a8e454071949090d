import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { z } from 'zod';
// The simulator must load before a contract module (it sets the shim's log level).
import { loadChaincode, type Chaincode } from './simulator';

/**
 * A Node.js chaincode package as `fabric-chaincode-node start` runs it in a chaincode
 * container: a directory whose package.json `main` module exports `contracts` (the
 * fabric-contract-api Contract classes). `--chaincode <dir>` serves it under its package
 * name (scope dropped), `--chaincode <name>=<dir>` under `name`, as the name a chaincode
 * definition gives it on a channel.
 */

/** Fabric's chaincode name rule (core/common/ccprovider: ChaincodeNameRegExp). */
const CHAINCODE_NAME = /^[a-zA-Z0-9]+([-_][a-zA-Z0-9]+)*$/;

const packageJson = z.object({ name: z.string().min(1), main: z.string().min(1).optional() });

export class ChaincodePackageError extends Error {}

export function parseChaincodeSpec(spec: string): { name?: string; dir: string } {
  const eq = spec.indexOf('=');
  // A Windows drive letter or a path with '=' in a later segment is a dir, not name=dir.
  const name = eq > 0 ? spec.slice(0, eq) : undefined;
  if (name === undefined || !CHAINCODE_NAME.test(name)) return { dir: spec };
  return { name, dir: spec.slice(eq + 1) };
}

export function loadChaincodePackage(spec: string): Chaincode {
  const { name: given, dir } = parseChaincodeSpec(spec);
  const root = resolve(dir);
  let manifest: z.infer<typeof packageJson>;
  try {
    manifest = packageJson.parse(JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')));
  } catch (err) {
    throw new ChaincodePackageError(`${root} is not a chaincode package: package.json ${err instanceof Error ? err.message : String(err)}`);
  }
  const name = given ?? basename(manifest.name);
  if (!CHAINCODE_NAME.test(name))
    throw new ChaincodePackageError(`chaincode name ${JSON.stringify(name)} is not a Fabric chaincode name; use --chaincode <name>=${dir}`);
  const exported = require(resolve(root, manifest.main ?? 'index.js')) as { contracts?: unknown };
  const contracts = exported.contracts;
  if (!Array.isArray(contracts) || contracts.length === 0 || !contracts.every((c) => typeof c === 'function')) {
    throw new ChaincodePackageError(`${root}: the main module must export \`contracts\`, an array of Contract classes, as fabric-chaincode-node requires`);
  }
  return loadChaincode(name, contracts);
}
