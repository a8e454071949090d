import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { parseByteRange } from '../../src/api/byteRange';
import type { LogTail } from '../../src/app/workflows/logTail';
import type { ByteSource } from '../../src/ports/compute';

/**
 * A file or log as an HTTP response: streamed from its source (app.setup enables HTTP
 * streams, so the body is never held whole), with Content-Length, and one `Range` honoured
 * (206 with Content-Range; 416 when it lies beyond the end).
 */
export async function byteResponse(request: HttpRequest, source: ByteSource, contentType: string): Promise<HttpResponseInit> {
  const range = parseByteRange(request.headers.get('range'), source.size);
  const headers: Record<string, string> = { 'content-type': contentType, 'accept-ranges': 'bytes' };
  if (range === 'unsatisfiable' || source.size === 0 || request.method === 'HEAD') {
    await source.close();
    if (range === 'unsatisfiable') return { status: 416, headers: { ...headers, 'content-range': `bytes */${source.size}` } };
    return { status: 200, headers: { ...headers, 'content-length': String(source.size) }, ...(source.size === 0 && { body: new Uint8Array(0) }) };
  }
  const { start, end } = range ?? { start: 0, end: source.size - 1 };
  return {
    status: range === undefined ? 200 : 206,
    headers: { ...headers, 'content-length': String(end - start + 1), ...(range !== undefined && { 'content-range': `bytes ${start}-${end}/${source.size}` }) },
    body: source.read(start, end) as AsyncIterable<Uint8Array>,
  };
}

/** The tail of a log: the part of the whole it is, as a Range answer places it (206 with
 * Content-Range), so a follower knows the offset to read on from; 200 when it is all. */
export function tailResponse(tail: LogTail, contentType: string): HttpResponseInit {
  const headers: Record<string, string> = { 'content-type': contentType, 'accept-ranges': 'bytes', 'content-length': String(tail.bytes.length) };
  if (tail.start === 0 || tail.bytes.length === 0) return { status: 200, headers, body: tail.bytes };
  return { status: 206, headers: { ...headers, 'content-range': `bytes ${tail.start}-${tail.size - 1}/${tail.size}` }, body: tail.bytes };
}
