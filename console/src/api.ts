import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './generated/api';
import { authorization } from './session';

/** The console's one back end: the documented API, typed from its OpenAPI document. */
export type Schemas = components['schemas'];
export type Dataset = Schemas['Dataset'];
export type WorkflowView = Schemas['WorkflowView'];
export type JobView = Schemas['JobView'];
export type Approval = Schemas['Approval'];
export type ApprovalReview = Schemas['ApprovalReview'];
export type WorkflowResults = Schemas['WorkflowResults'];
export type Receipt = Schemas['WorkflowReceipt'];
export type RunStatus = WorkflowView['status'];

export interface ErrorDetail {
  path: string;
  message: string;
}

/** An answer of the API that is not a success, in the API's own words. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: readonly ErrorDetail[] = [],
  ) {
    super(message);
  }
}

const withAuth: Middleware = {
  onRequest({ request }) {
    const value = authorization();
    if (value !== undefined) request.headers.set('authorization', value);
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: '/api' });
api.use(withAuth);

function toApiError(status: number, body: unknown): ApiError {
  const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
  if (typeof error?.message === 'string') {
    const details = Array.isArray(error.details) ? (error.details as ErrorDetail[]) : [];
    return new ApiError(status, typeof error.code === 'string' ? error.code : 'error', error.message, details);
  }
  return new ApiError(status, 'error', `the API answered ${status}`);
}

/** The data of an openapi-fetch answer, or the API's error thrown as an ApiError. */
export async function ok<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw toApiError(response.status, error);
  return data as T;
}

/** Raw bytes of a route that answers a file or a log (not JSON). */
export async function bytes(path: string): Promise<Blob> {
  const auth = authorization();
  const response = await fetch(`/api/${path}`, { headers: auth === undefined ? {} : { authorization: auth } });
  if (!response.ok) {
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      body = undefined;
    }
    throw toApiError(response.status, body);
  }
  return response.blob();
}

export const enc = encodeURIComponent;
/** A workspace path for a URL: each segment encoded, the slashes kept. */
export const encPath = (path: string): string => path.split('/').map(enc).join('/');
