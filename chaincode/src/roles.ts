import type { Context } from 'fabric-contract-api';
import { forbidden } from './errors';

/**
 * Roles carried by the client certificate as Fabric CA attributes (extension
 * 1.2.3.4.5.6.7.8.1, `{"attrs":{...}}`), read by fabric-shim's ClientIdentity. The
 * platform (the identity the ledgerflow service submits its own transactions as) is a role,
 * not an organization: the other users of its organization do not have it.
 */
export const ROLE_ATTRIBUTE = 'ledgerflow.role';
export const PLATFORM_ROLE = 'platform';

export function requirePlatform(ctx: Context, action: string): void {
  if (!ctx.clientIdentity.assertAttributeValue(ROLE_ATTRIBUTE, PLATFORM_ROLE)) {
    throw forbidden(`only the platform identity (attribute ${ROLE_ATTRIBUTE}=${PLATFORM_ROLE}) may ${action}`);
  }
}
