import type { RpcDuration } from './rpcTypes';

export function durationToMs(duration: RpcDuration | null | undefined): number {
  if (!duration) return 0;
  return (duration.seconds ?? 0) * 1000 + Math.floor((duration.nanos ?? 0) / 1e6);
}

/**
 * Parses a .NET TimeSpan as host.json writes it (`hh:mm:ss`, `hh:mm:ss.fff`, `d.hh:mm:ss`).
 * Hand-written because no maintained npm package parses the .NET format; it is ten lines.
 */
export function parseTimeSpan(text: string): number | undefined {
  const m = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?$/.exec(text.trim());
  if (!m) return undefined;
  const [, days, hours, minutes, seconds, fraction] = m;
  const ms = fraction ? Math.round(Number(`0.${fraction}`) * 1000) : 0;
  return (((Number(days ?? 0) * 24 + Number(hours)) * 60 + Number(minutes)) * 60 + Number(seconds)) * 1000 + ms;
}
