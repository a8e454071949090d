import type { RpcTypedData } from './rpcTypes';

/**
 * A string trigger-metadata value (an instance id, a queue message id, a time) as typed data.
 * The programming model reads a `string` value with `JSON.parse`, keeping the text when that
 * throws, so most such values cost an exception (its stack trace captured) per invocation.
 * Text that cannot be JSON goes as the JSON of the string instead: the function sees the
 * same string, and no exception is thrown. Text that may parse goes as `string`, so it
 * still becomes what JSON makes of it (`"123"` a number), as the Functions host sends it.
 */
export function metadataString(value: string): RpcTypedData {
  return MAY_BE_JSON.test(value) ? { string: value } : { json: JSON.stringify(value) };
}

/** Everything JSON.parse might accept: a number, true, false, null, or text that opens an
 * object, array or string (JSON whitespace allowed around it). */
const MAY_BE_JSON = /^[ \t\n\r]*(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?[ \t\n\r]*$|true[ \t\n\r]*$|false[ \t\n\r]*$|null[ \t\n\r]*$|[[{"])/;
