/*
 * Per-transaction costs of fabric-shim that, in a long-lived peer process, each exceed the
 * cost of a lease transaction itself. None changes what the chaincode sees or returns.
 * - ClientIdentity parses the creator certificate with @fidm/x509 on every transaction.
 *   The same few certificates come back again and again, and a parsed Certificate is only
 *   read, so the parse is remembered per PEM text (bounded).
 * - winston pushes every message through its stream and formatters before any level
 *   filter (it filters per transport), and the shim logs about ten debug lines per
 *   transaction; the methods of levels that are off become no-ops on the shim's loggers.
 * - The contract dispatcher recompiles (ajv: stringify, URI-normalize, cache lookup) the
 *   JSON schema of every parameter on every call; the schemas come from the contract's
 *   fixed metadata, so the compiled validator is remembered per schema object.
 * - DataMarshall.handleParameters builds four debug lines per parameter before the logger
 *   drops them (util.inspect of the argument's Buffer, JSON of the parameter's schema with
 *   every component schema of the contract); while debug is off it runs without them.
 * All reach into fabric-shim internals, pinned at ~2.5.8 (chaincode/package.json).
 */
import { dirname } from 'node:path';

interface FidmCertificateClass {
  fromPEM(pem: Buffer | string): unknown;
}

const CERT_CACHE_LIMIT = 1024;
let certificatesMemoized = false;

export function memoizeCertificateParsing(): void {
  if (certificatesMemoized) return;
  certificatesMemoized = true;
  const shimDir = dirname(require.resolve('fabric-shim'));
  const { Certificate } = require(require.resolve('@fidm/x509', { paths: [shimDir] })) as { Certificate: FidmCertificateClass };
  const parse = Certificate.fromPEM.bind(Certificate);
  const cache = new Map<string, unknown>();
  Certificate.fromPEM = (pem: Buffer | string) => {
    const text = typeof pem === 'string' ? pem : pem.toString('utf8');
    let cert = cache.get(text);
    if (cert === undefined) {
      cert = parse(pem);
      if (cache.size >= CERT_CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
      cache.set(text, cert);
    }
    return cert;
  };
}

interface ShimLogging {
  setLevel(level: string): void;
  getLogger(name: string): Record<string, unknown>;
}

// winston's npm levels, most severe first; the shim maps CRITICAL to 'fatal', which is none
// of them, so at CRITICAL every method is off.
const WINSTON_LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'];
// fabric-shim's setLevel leaves its winston name in CORE_CHAINCODE_LOGGING_LEVEL ('fatal',
// 'warn'), which the next chaincode loaded in this process reads: both spellings mean the same.
const SHIM_LEVELS: Record<string, string> = { CRITICAL: 'fatal', FATAL: 'fatal', ERROR: 'error', WARNING: 'warn', WARN: 'warn', INFO: 'info', DEBUG: 'debug' };
const noop = (): void => {};

// The loggers fabric-shim and fabric-contract-api create on the transaction path.
const SHIM_LOGGERS = [
  'lib/chaincode.js',
  'lib/stub.js',
  'lib/iterators.js',
  'lib/handler.js',
  'contracts-spi/chaincodefromcontract.js',
  'contracts-spi/datamarshall.js',
];
const CONTRACT_API_LOGGERS = ['./lib/contract.js', './lib/jsontransactionserializer.js'];

export function setShimLogLevel(level: string): void {
  const enabled = WINSTON_LEVELS.indexOf(SHIM_LEVELS[level.toUpperCase()] ?? 'info');
  const modules: [ShimLogging, string[]][] = [
    [require('fabric-shim/lib/logger') as ShimLogging, SHIM_LOGGERS],
    [require('fabric-contract-api/lib/logger') as ShimLogging, CONTRACT_API_LOGGERS],
  ];
  for (const [logging, names] of modules) {
    logging.setLevel(level);
    for (const name of names) {
      const logger = logging.getLogger(name);
      WINSTON_LEVELS.forEach((method, rank) => {
        if (enabled < 0 || rank > enabled) logger[method] = noop;
        else delete logger[method]; // back to winston's own method
      });
    }
  }
}

interface Validator {
  (data: unknown): boolean;
  errors?: { message?: string }[] | null;
}
interface ParameterSchema {
  schema: { type?: unknown; $ref?: unknown };
}
type HandleParameters = (fn: { parameters?: ParameterSchema[] }, parameters: Buffer[], loggerPrefix: string) => unknown[];
interface DataMarshallInternals {
  ajv: { compile(schema: { properties?: { prop?: object } }): Validator };
  components: unknown;
  fromWireBuffer(supplied: Buffer, schema: object, loggerPrefix: string): { value: unknown; validateData: unknown };
  handleParameters: HandleParameters;
}
interface DispatcherInternals {
  contractImplementations: Record<string, { dataMarshall?: DataMarshallInternals }>;
}

/** fabric-shim 2.5's DataMarshall.handleParameters (lib/contract-spi/datamarshall.js) with
 * its debug lines left out, used while its logger's debug is off (setShimLogLevel): the same
 * checks, conversions, error log and errors, in the same order. */
function quietParameters(marshall: DataMarshallInternals): void {
  const original = marshall.handleParameters;
  const logger = (require('fabric-shim/lib/logger') as ShimLogging).getLogger('contracts-spi/datamarshall.js');
  marshall.handleParameters = function (this: DataMarshallInternals, fn, parameters, loggerPrefix) {
    if (logger.debug !== noop) return original.call(this, fn, parameters, loggerPrefix);
    const expectedParams = fn.parameters;
    if (!expectedParams) return parameters.map((e) => e.toString());
    if (expectedParams.length !== parameters.length) {
      const errMsg = `Expected ${expectedParams.length} parameters, but ${parameters.length} have been supplied`;
      (logger.error as (message: string) => void)(`${loggerPrefix} ${errMsg}`);
      throw new Error(errMsg);
    }
    return expectedParams.map((expected, i) => {
      const schema = { properties: { prop: expected.schema }, components: { schemas: this.components } };
      if (!expected.schema.type && !expected.schema.$ref) throw new Error(`Incorrect type information ${JSON.stringify(expected.schema)}`);
      const validator = this.ajv.compile(schema);
      const { value, validateData } = this.fromWireBuffer(parameters[i]!, schema, loggerPrefix);
      if (!validator({ prop: validateData })) {
        throw new Error(`Unable to validate parameter due to ${JSON.stringify((validator.errors ?? []).map((err) => err.message))}`);
      }
      return value;
    });
  };
}

export function memoizeParameterSchemas(dispatcher: object): void {
  for (const implementation of Object.values((dispatcher as DispatcherInternals).contractImplementations)) {
    const marshall = implementation.dataMarshall;
    if (marshall === undefined) continue;
    quietParameters(marshall);
    const ajv = marshall.ajv;
    const compile = ajv.compile.bind(ajv);
    const compiled = new WeakMap<object, Validator>();
    ajv.compile = (schema) => {
      const key = schema.properties?.prop;
      if (key === undefined) return compile(schema);
      let validator = compiled.get(key);
      if (validator === undefined) {
        validator = compile(schema);
        compiled.set(key, validator);
      }
      return validator;
    };
  }
}
