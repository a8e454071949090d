/** PyYAML, which JupyterFlow uses, accepts a quoted scalar whose continuation lines are
 * indented no deeper than its key; YAML 1.2 (the `yaml` package) does not. The thesis
 * listings have exactly that (ids wrapped across lines), so a document that fails to parse
 * is retried once with such scalars joined onto one line, which is what folding yields. */
const QUOTED_START = /^(\s*(?:-\s+)?(?:[^\s#'"-][^#]*?:\s+)?)(['"])(.*)$/;

function isClosed(quote: string, rest: string): boolean {
  return quote === "'" ? rest.replace(/''/g, '').includes("'") : /(^|[^\\])(\\\\)*"/.test(rest);
}

export function joinWrappedQuotedScalars(source: string): string {
  const lines = source.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    // Long lines are left alone: the pattern backtracks, and wrapped ids are short lines.
    const match = line.length <= 1000 ? QUOTED_START.exec(line) : null;
    if (match && !isClosed(match[2]!, match[3]!)) {
      let rest = match[3]!;
      while (!isClosed(match[2]!, rest) && i + 1 < lines.length && lines[i + 1]!.trim() !== '') {
        const next = lines[++i]!.trim();
        rest = `${rest.trimEnd()} ${next}`;
      }
      line = `${match[1]}${match[2]}${rest}`;
    }
    out.push(line);
  }
  return out.join('\n');
}
