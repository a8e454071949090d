import type { RpcTypedData } from './rpcTypes';

/**
 * The conversions `@azure/functions` 4.x applies between typed data and a function's
 * values (its `fromRpcTypedData`, `toCamelCase*` and `toRpcTypedData` converters), for the
 * kinds of data the host hands the functions it invokes without the model
 * (app/directInvocation.ts). Kept rule for rule: those functions must see what the model
 * would have given them.
 */

/** A converted value, or `UNSUPPORTED` for typed data these rules do not cover (bytes,
 * collections, HTTP): the caller then lets the programming model convert it. */
export const UNSUPPORTED: unique symbol = Symbol('unsupported typed data');

/** `fromRpcTypedData` for no data, `string` (parsed as JSON when it is), `json`, `int` and `double`. */
export function fromTypedData(data: RpcTypedData | null | undefined): unknown {
  if (!data) return undefined;
  if (isDefined(data.string)) return tryJsonParse(data.string);
  if (isDefined(data.json)) return JSON.parse(data.json) as unknown;
  if (isDefined(data.bytes) || isDefined(data.stream) || isDefined(data.http)) return UNSUPPORTED;
  if (isDefined(data.int)) return data.int;
  if (isDefined(data.double)) return data.double;
  // Collections (and kinds this host never sends) are left to the model.
  return Object.keys(data).length === 0 ? undefined : UNSUPPORTED;
}

/** Whether `fromTypedData` converts this kind of data (it may still throw on JSON that is not). */
export function convertible(data: RpcTypedData | null | undefined): boolean {
  if (!data || isDefined(data.string) || isDefined(data.json)) return true;
  if (isDefined(data.bytes) || isDefined(data.stream) || isDefined(data.http)) return false;
  return isDefined(data.int) || isDefined(data.double) || Object.keys(data).length === 0;
}

const isDefined = <T>(value: T | null | undefined): value is T => value !== null && value !== undefined;

function tryJsonParse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Trigger metadata keys and the keys of object values, first letter lower-cased (recursively). */
export function toCamelCaseValue(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(toCamelCaseValue);
  const result: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) result[toCamelCaseKey(key)] = toCamelCaseValue(v);
  return result;
}

export const toCamelCaseKey = (key: string): string => key.charAt(0).toLowerCase() + key.slice(1);

/** A function's return value as typed data (`toRpcTypedData`). */
export function toTypedData(value: unknown): RpcTypedData | null | undefined {
  if (value === null || value === undefined) return value;
  if (typeof value === 'string') return { string: value };
  if (Buffer.isBuffer(value)) return { bytes: value };
  if (ArrayBuffer.isView(value)) return { bytes: new Uint8Array(value.buffer, value.byteOffset, value.byteLength) };
  if (value instanceof ArrayBuffer) return { bytes: new Uint8Array(value) };
  if (typeof value === 'number') return Number.isInteger(value) ? { int: value } : { double: value };
  return { json: JSON.stringify(value) };
}
