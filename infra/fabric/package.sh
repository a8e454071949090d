#!/usr/bin/env bash
# Packages chaincode/ for `peer lifecycle chaincode install`. Needs the Fabric 2.5 `peer`
# CLI on PATH and a built chaincode (npm run build --workspace chaincode).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
label="${1:-ledgerflow_1.0}"
out="${2:-$PWD/ledgerflow-cc.tar.gz}"
command -v peer >/dev/null || { echo "the Fabric 'peer' CLI is not on PATH (Fabric 2.5 binaries)" >&2; exit 1; }
[ -d "$root/chaincode/dist" ] || { echo "build the chaincode first: npm run build --workspace chaincode" >&2; exit 1; }
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
cp -r "$root/chaincode/package.json" "$root/chaincode/dist" "$stage/"
# The proposal-time skew every endorser allows is part of the package (the package id that
# every organization approves covers it), so all peers apply the same one.
if [ -n "${LEDGER_MAX_CLOCK_SKEW_SECONDS:-}" ]; then
  [[ "$LEDGER_MAX_CLOCK_SKEW_SECONDS" =~ ^[0-9]+$ ]] || { echo "LEDGER_MAX_CLOCK_SKEW_SECONDS must be a whole number of seconds" >&2; exit 1; }
  printf '{"maxClockSkewSeconds": %s}\n' "$LEDGER_MAX_CLOCK_SKEW_SECONDS" > "$stage/ledgerflow.json"
fi
# The peer's Node builder runs `npm install --production`: give it a lockfile of the
# chaincode's own dependencies.
(cd "$stage" && npm install --package-lock-only --omit=dev --no-audit --no-fund >/dev/null)
peer lifecycle chaincode package "$out" --path "$stage" --lang node --label "$label"
echo "packaged $out (label $label)"
