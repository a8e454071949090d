/**
 * Azure Functions route templates (ASP.NET Core route syntax, the parts Functions apps use):
 * literal segments, `{name}`, optional `{name?}` (trailing), catch-all `{*name}` (last),
 * and constraints `{name:int}`, `alpha`, `bool`, `guid`, `long`, `double`, `datetime`,
 * `minlength(n)`, `maxlength(n)`, `length(n)`, `min(n)`, `max(n)`, `regex(...)`.
 * Hand-written: route libraries on npm (path-to-regexp, find-my-way) use another syntax,
 * and the app's templates must mean here what they mean on Azure. Matching is
 * case-insensitive for literals, as on Azure.
 */
export type Segment = { kind: 'literal'; text: string } | { kind: 'param'; name: string; optional: boolean; catchAll: boolean; constraints: Constraint[] };

type Constraint = (value: string) => boolean;

export interface RouteTemplate {
  readonly template: string;
  readonly segments: readonly Segment[];
  /** Sort key: more specific routes first (literals before parameters before catch-alls). */
  readonly rank: readonly number[];
}

const GUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

function constraint(spec: string, template: string): Constraint {
  const m = /^([a-z]+)(?:\((.*)\))?$/i.exec(spec);
  if (!m) throw new Error(`route "${template}": bad constraint "${spec}"`);
  const name = (m[1] as string).toLowerCase();
  const arg = m[2];
  const num = (): number => {
    const n = Number(arg);
    if (arg === undefined || Number.isNaN(n)) throw new Error(`route "${template}": constraint "${spec}" needs a number`);
    return n;
  };
  switch (name) {
    case 'int':
    case 'long':
      return (v) => /^-?\d+$/.test(v);
    case 'double':
    case 'decimal':
    case 'float':
      return (v) => v.trim() !== '' && !Number.isNaN(Number(v));
    case 'bool':
      return (v) => /^(true|false)$/i.test(v);
    case 'alpha':
      return (v) => /^[a-z]+$/i.test(v);
    case 'guid':
      return (v) => GUID.test(v);
    case 'datetime':
      return (v) => !Number.isNaN(Date.parse(v));
    case 'minlength': {
      const n = num();
      return (v) => v.length >= n;
    }
    case 'maxlength': {
      const n = num();
      return (v) => v.length <= n;
    }
    case 'length': {
      const n = num();
      return (v) => v.length === n;
    }
    case 'min': {
      const n = num();
      return (v) => Number(v) >= n;
    }
    case 'max': {
      const n = num();
      return (v) => Number(v) <= n;
    }
    case 'regex': {
      if (arg === undefined) throw new Error(`route "${template}": regex constraint needs a pattern`);
      const re = new RegExp(arg, 'i');
      return (v) => re.test(v);
    }
    default:
      throw new Error(`route "${template}": unknown constraint "${name}"`);
  }
}

export function parseRouteTemplate(template: string): RouteTemplate {
  const parts = template
    .replace(/^\/+|\/+$/g, '')
    .split('/')
    .filter((p) => p !== '');
  const segments: Segment[] = parts.map((part, index) => {
    const m = /^\{(\*)?([A-Za-z_][A-Za-z0-9_]*)((?::[^:}]+(?:\([^)]*\))?)*)(\?)?\}$/.exec(part);
    if (!m) {
      if (/[{}]/.test(part)) throw new Error(`route "${template}": segment "${part}" mixes text and parameters (not supported)`);
      return { kind: 'literal', text: decodeURIComponent(part).toLowerCase() };
    }
    const [, star, name, constraintText, question] = m;
    const catchAll = star === '*';
    if (catchAll && index !== parts.length - 1) throw new Error(`route "${template}": a catch-all parameter must be last`);
    const optional = question === '?' || catchAll;
    const constraints = (constraintText ?? '')
      .split(':')
      .filter((c) => c !== '')
      .map((c) => constraint(c, template));
    return { kind: 'param', name: name as string, optional, catchAll, constraints };
  });
  segments.forEach((s, i) => {
    if (s.kind === 'param' && s.optional && !s.catchAll && segments.slice(i + 1).some((n) => !(n.kind === 'param' && n.optional))) {
      throw new Error(`route "${template}": an optional parameter must be at the end`);
    }
  });
  const rank = segments.map((s) => (s.kind === 'literal' ? 0 : s.catchAll ? 4 : s.optional ? 3 : s.constraints.length > 0 ? 1 : 2));
  return { template, segments, rank };
}

/** Route parameters when `pathSegments` (already split and URI-decoded) match, else
 * undefined. `lowered` is the same segments in lower case, when the caller matches them
 * against many routes. */
export function matchRoute(
  route: RouteTemplate,
  pathSegments: readonly string[],
  lowered: readonly string[] = pathSegments.map((s) => s.toLowerCase()),
): Record<string, string> | undefined {
  const { segments } = route;
  // Literals first: most routes differ there, and a miss then allocates nothing.
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] as Segment;
    if (seg.kind === 'literal' && lowered[i] !== seg.text) return undefined;
  }
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] as Segment;
    const value = pathSegments[i];
    if (seg.kind === 'literal') continue;
    if (seg.catchAll) {
      const rest = pathSegments.slice(i).join('/');
      if (rest !== '' && !seg.constraints.every((c) => c(rest))) return undefined;
      if (rest !== '') params[seg.name] = rest;
      return params;
    }
    if (value === undefined) {
      if (seg.optional) continue;
      return undefined;
    }
    if (!seg.constraints.every((c) => c(value))) return undefined;
    params[seg.name] = value;
  }
  return pathSegments.length <= segments.length ? params : undefined;
}

export function compareRank(a: RouteTemplate, b: RouteTemplate): number {
  for (let i = 0; i < Math.max(a.rank.length, b.rank.length); i++) {
    const x = a.rank[i] ?? -1;
    const y = b.rank[i] ?? -1;
    if (x !== y) return x - y;
  }
  return 0;
}
