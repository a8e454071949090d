import { jsonSetting, settings, type Settings } from '../config/settings';
import { Authenticator, principalOrgMapSchema, tokensSchema } from '../core/auth/credentials';

/** The authenticator the settings describe; needs no adapter, so a 401 never waits on one. */
export function authenticatorFrom(s: Settings): Authenticator {
  return new Authenticator(
    jsonSetting(s.LEDGERFLOW_TOKENS, tokensSchema, {}),
    s.AUTH_PRINCIPAL_ORG_MAP.trim() === '' ? undefined : jsonSetting(s.AUTH_PRINCIPAL_ORG_MAP, principalOrgMapSchema, {}),
  );
}

let current: Authenticator | undefined;
export function authenticator(): Authenticator {
  current ??= authenticatorFrom(settings());
  return current;
}
