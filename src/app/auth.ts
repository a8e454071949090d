import { jsonSetting, settings, type Settings } from '../config/settings';
import { Authenticator, principalOrgMapSchema, tokensSchema, type PrincipalOrgMap } from '../core/auth/credentials';

/** The authenticator the settings describe; needs no adapter, so a 401 never waits on one. */
export function authenticatorFrom(s: Settings): Authenticator {
  const [user, org] = s.FABRIC_SERVICE_IDENTITY.split('@') as [string, string];
  return new Authenticator(jsonSetting(s.LEDGERFLOW_TOKENS, tokensSchema, {}), principalOrgs(s), { user, org });
}

function principalOrgs(s: Settings): PrincipalOrgMap | undefined {
  const map = jsonSetting(s.AUTH_PRINCIPAL_ORGS, principalOrgMapSchema, {});
  return Object.keys(map).length === 0 ? undefined : map;
}

let current: Authenticator | undefined;
export function authenticator(): Authenticator {
  current ??= authenticatorFrom(settings());
  return current;
}
