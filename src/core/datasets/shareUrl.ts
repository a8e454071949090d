import { validationError, type ErrorDetail } from '../errors';
import { relativePathProblem } from '../relativePath';

/**
 * An Azure Files location as owners give it: `https://<account>.file.core.windows.net/<share>[/<dir>]`,
 * or path-style `http(s)://<ip or localhost>:<port>/<account>/<share>[/<dir>]` (Azurite and
 * private endpoints). Plain http is accepted only for loopback hosts.
 */
export interface ShareAddress {
  serviceUrl: string;
  accountName: string;
  shareName: string;
  /** '' for the share root. */
  directory: string;
}

const PATH_STYLE_HOST = /^(localhost|\d{1,3}(\.\d{1,3}){3}|\[[0-9a-f:]+\])$/i;
const SHARE_NAME = /^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/;

export function shareUrlProblems(raw: string, at: string): ErrorDetail[] {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return [{ path: at, message: 'must be a URL' }];
  }
  const pathStyle = PATH_STYLE_HOST.test(url.hostname);
  const loopback = url.hostname === 'localhost' || url.hostname.startsWith('127.') || url.hostname === '[::1]';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) return [{ path: at, message: 'must use https' }];
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    return [{ path: at, message: 'must not carry a query, fragment or user info (put the SAS token in credential)' }];
  }
  const segments = url.pathname
    .split('/')
    .filter((s) => s !== '')
    .map(decodeURIComponent);
  const [share, ...dir] = pathStyle ? segments.slice(1) : segments;
  if (pathStyle && segments.length === 0) return [{ path: at, message: 'must name the account in the path' }];
  if (share === undefined || !SHARE_NAME.test(share)) return [{ path: at, message: 'must name a valid share' }];
  if (dir.length > 0 && relativePathProblem(dir.join('/')) !== undefined) return [{ path: at, message: 'has an invalid directory path' }];
  return [];
}

export function parseShareUrl(raw: string): ShareAddress {
  const problems = shareUrlProblems(raw, 'shareUrl');
  if (problems.length > 0) throw validationError('invalid share URL', problems);
  const url = new URL(raw);
  const segments = url.pathname
    .split('/')
    .filter((s) => s !== '')
    .map(decodeURIComponent);
  if (PATH_STYLE_HOST.test(url.hostname)) {
    const [accountName, shareName, ...dir] = segments as [string, string, ...string[]];
    return { serviceUrl: `${url.origin}/${accountName}`, accountName, shareName, directory: dir.join('/') };
  }
  const [shareName, ...dir] = segments as [string, ...string[]];
  return { serviceUrl: url.origin, accountName: url.hostname.split('.')[0]!, shareName, directory: dir.join('/') };
}

/** A SAS token (with or without the leading `?`) or else a storage account key. */
export function isSasToken(credential: string): boolean {
  return /(^|[?&])sig=/.test(credential);
}
