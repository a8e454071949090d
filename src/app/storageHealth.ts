import { statfsSync } from 'node:fs';

/**
 * Whether the data disk has room, for /api/health. Asked of the filesystem at each request
 * (one statfs), so health says `degraded` exactly while the disk is full and `ok` again as
 * soon as space returns, with no state to go stale. Below the low-water mark SQLite can no
 * longer grow its files and job outputs fail: for the platform, the disk is full.
 */
const LOW_WATER_BYTES = 1024 * 1024;

export interface StorageHealth {
  status: 'ok' | 'full';
  freeBytes: number;
  message?: string;
}

export function storageHealth(dataDir: string): StorageHealth {
  let freeBytes: number;
  try {
    const fs = statfsSync(dataDir);
    freeBytes = fs.bavail * fs.bsize;
  } catch {
    return { status: 'ok', freeBytes: -1 }; // no data dir yet: nothing written, nothing full
  }
  if (freeBytes >= LOW_WATER_BYTES) return { status: 'ok', freeBytes };
  return { status: 'full', freeBytes, message: `the data disk is full (${freeBytes} bytes free): writes are refused with 507 until space is freed` };
}
