/**
 * Instance id rules of the Durable Functions extension (DurableClient.StartNewAsync):
 * at most 256 characters, not starting with `@` (the prefix of entity ids), and none of
 * `/`, `\`, `#`, `?` or control characters (they would break the management URLs and
 * Azure Storage keys). Sub-orchestration ids are only refused when they start with `@`
 * (DurableOrchestrationContext), as on Azure.
 */
export const MAX_INSTANCE_ID_LENGTH = 256;

// C# char.IsControl: U+0000-U+001F and U+007F-U+009F.
// eslint-disable-next-line no-control-regex
const INVALID_CHARACTER = /[/\\#?\u0000-\u001f\u007f-\u009f]/;

/** The extension's IsInvalidCharacter, for instance ids and entity keys alike. */
export const hasInvalidCharacter = (s: string): boolean => INVALID_CHARACTER.test(s);

/** Why a client-chosen instance id is refused, or undefined when it is acceptable. */
export function instanceIdProblem(id: string): string | undefined {
  if (id.startsWith('@')) return 'Orchestration instance ids must not start with @.';
  if (hasInvalidCharacter(id)) return 'Orchestration instance ids must not contain /, \\, #, ?, or control characters.';
  if (id.length > MAX_INSTANCE_ID_LENGTH) return `Instance ID lengths must not exceed ${MAX_INSTANCE_ID_LENGTH} characters.`;
  return undefined;
}

/** Why a sub-orchestration's instance id is refused, or undefined. */
export function subOrchestrationIdProblem(id: string, parentId: string): string | undefined {
  if (id.startsWith('@')) return 'Orchestration instance ids must not start with @';
  if (id === parentId) return 'The instance ID of a sub-orchestration must be different than the instance ID of a parent orchestration.';
  return undefined;
}
