/**
 * Imported first by index.ts: the app checks its own settings as it loads (the host that runs
 * it knows nothing of them), so a bad one stops start-up with one message naming it, and the
 * defaults are in place before any trigger names a setting (`%LEASE_EXPIRY_SCHEDULE%`).
 */
import { loadAppSettings } from '../src/config/settings';

loadAppSettings();
