import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { logTail } from '../../../src/app/workflows/logTail';
import { bufferSource } from '../../../src/app/workflows/outputs';

/** `tail -n`: the last n lines, a final newline ending the last line rather than starting one. */
function reference(text: string, n: number): string {
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  const lines = body.split('\n');
  return lines.slice(Math.max(0, lines.length - n)).join('\n') + (text.endsWith('\n') ? '\n' : '');
}

const tailOf = async (text: string, n: number, window?: number) => {
  const t = await logTail(bufferSource(Buffer.from(text)), n, window);
  return { ...t, text: t.bytes.toString() };
};

test('log tail: as tail -n, and placed in the whole log', async () => {
  assert.equal((await tailOf('a\nb\nc\n', 2)).text, 'b\nc\n');
  assert.equal((await tailOf('a\nb\nc', 2)).text, 'b\nc');
  assert.equal((await tailOf('a\nb\nc\n', 9)).text, 'a\nb\nc\n');
  assert.equal((await tailOf('', 3)).text, '');
  assert.equal((await tailOf('a\n\n\n', 2)).text, '\n\n');
  const t = await tailOf('one\ntwo\nthree\n', 1);
  assert.deepEqual([t.start, t.size, t.text], [8, 14, 'three\n']);
  await fc.assert(
    fc.asyncProperty(fc.string({ unit: fc.constantFrom('a', 'b', '\n') }), fc.integer({ min: 1, max: 8 }), async (text, n) => {
      const tail = await tailOf(text, n);
      assert.equal(tail.text, reference(text, n));
      assert.equal(text.slice(tail.start), tail.text);
    }),
  );
});

test('log tail: reads only a window from the end; a window starting mid-line gives its whole lines', async () => {
  // 10 bytes of window over "aaaa\nbbbb\ncccc\n": "bbb\ncccc\n" plus one byte of line 1.
  const t = await tailOf('aaaa\nbbbb\ncccc\n', 5, 10);
  assert.equal(t.text, 'cccc\n');
  assert.equal((await tailOf('aaaa\nbbbb\ncccc\n', 1, 10)).text, 'cccc\n');
  assert.equal((await tailOf('x'.repeat(50), 1, 10)).text, 'x'.repeat(10)); // one long line: what the window holds
  await fc.assert(
    fc.asyncProperty(
      fc.string({ unit: fc.constantFrom('a', '\n'), maxLength: 60 }),
      fc.integer({ min: 1, max: 8 }),
      fc.integer({ min: 1, max: 30 }),
      async (text, n, w) => {
        const tail = await tailOf(text, n, w);
        assert.ok(tail.bytes.length <= w);
        assert.equal(text.slice(tail.start), tail.text);
        assert.ok(reference(text, n).endsWith(tail.text));
      },
    ),
  );
});
