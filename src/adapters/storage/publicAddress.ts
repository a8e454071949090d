import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Owners name the share they adopt, and the host then connects to it: a share URL on
 * loopback, a link-local metadata endpoint or a private range would turn adoption into a
 * probe of the host's own network. Every address the name resolves to must be public;
 * AZURE_FILES_ALLOW_PRIVATE lifts the rule for deployments whose shares sit behind private
 * endpoints (and for Azurite). Node's BlockList holds the ranges, so no parser is ours.
 */
const NON_PUBLIC = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  NON_PUBLIC.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  NON_PUBLIC.addSubnet(net, prefix, 'ipv6');

function isPublic(address: string): boolean {
  const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  // An IPv4-mapped IPv6 address (::ffff:10.0.0.1) is judged as the IPv4 address it carries.
  const mapped = family === 'ipv6' ? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1] : undefined;
  if (mapped !== undefined) return !NON_PUBLIC.check(mapped, 'ipv4');
  return !NON_PUBLIC.check(address, family);
}

/** True when the host name resolves, and only to public addresses. */
export async function resolvesToPublicOnly(hostname: string): Promise<boolean> {
  const bare = hostname.replace(/^\[(.*)\]$/, '$1');
  const addresses =
    isIP(bare) !== 0
      ? [bare]
      : await lookup(bare, { all: true, verbatim: true })
          .then((all) => all.map((a) => a.address))
          .catch(() => []);
  return addresses.length > 0 && addresses.every(isPublic);
}
