import type { z } from 'zod';
import { settingsSchema } from '../../src/config/settings';

/** The zod type of each setting under its default/optional wrappers ('enum', 'number', 'string', 'pipe'...). */
export function settingTypes(): Map<string, string> {
  const types = new Map<string, string>();
  for (const [name, field] of Object.entries(settingsSchema.shape as Record<string, z.ZodType>)) {
    let t = field;
    while (t.def.type === 'default' || t.def.type === 'optional' || t.def.type === 'prefault' || t.def.type === 'nullable') {
      t = (t.def as unknown as { innerType: z.ZodType }).innerType;
    }
    types.set(name, t.def.type);
  }
  return types;
}
