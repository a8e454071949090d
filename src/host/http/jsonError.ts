import type { ServerResponse } from 'node:http';

/** Writes the API's error shape `{"error":{"code","message"}}`, for errors the host itself
 * answers (no route, wrong method, body too large, function crashed). */
export function writeJsonError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
  extra: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ ...extra, error: { code, message } });
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
