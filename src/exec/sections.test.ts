import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseSections, text } from './sections.js';

/** Encodes sections the way the helper's `emit` does: `NAME LENGTH\n` then LENGTH bytes. */
function encode(sections: [string, Buffer | string][]): Buffer {
  return Buffer.concat(sections.flatMap(([name, body]) => {
    const b = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    return [Buffer.from(`${name} ${b.length}\n`, 'ascii'), b];
  }));
}

function asObject(s: Map<string, Buffer>): Record<string, string> {
  return Object.fromEntries([...s].map(([k, v]) => [k, v.toString('base64')]));
}

const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

describe('parseSections round trips', () => {
  const cases: [string, [string, Buffer | string][]][] = [
    ['nothing', []],
    ['one text section', [['pid', '4242']]],
    ['several sections', [['config', '{"process":{}}'], ['state', '{"pid": 7}\n'], ['pid', '7']]],
    ['names with dots and underscores', [['state.error', 'boom\n'], ['uid_map', '0 0 4294967295\n'], ['stdout.more', '12']]],
    ['empty sections', [['stdout', ''], ['stderr', ''], ['rc', '0\n']]],
    ['only an empty section', [['running', '']]],
    ['every byte value', [['stdout', allBytes], ['stderr', Buffer.alloc(0)]]],
    ['NUL and newlines only', [['stdout', Buffer.from([0, 10, 10, 0, 13, 10])]]],
    ['UTF-8 multibyte text counted in bytes', [['passwd', 'jörg:x:1000:1000:Jörg Ünïcode ✓:/home/jörg:/bin/sh\n']]],
    ['invalid UTF-8', [['stdout', Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xa0])]]],
    ['large section', [['config', Buffer.alloc(1 << 20, 0x61)], ['pid', '1']]],
  ];
  for (const [name, sections] of cases) {
    it(name, () => {
      const parsed = parseSections(encode(sections));
      const want = Object.fromEntries(sections.map(([k, v]) => [k, (typeof v === 'string' ? Buffer.from(v) : v).toString('base64')]));
      assert.deepEqual(asObject(parsed), want);
      assert.deepEqual([...parsed.keys()], sections.map(([k]) => k), 'order kept');
    });
  }

  it('a later section of the same name wins', () => {
    const parsed = parseSections(encode([['pid', '1'], ['pid', '2']]));
    assert.equal(text(parsed, 'pid'), '2');
    assert.equal(parsed.size, 1);
  });
});

describe('parseSections cannot be forged by content', () => {
  const forged = [
    'error 5\nforged',
    'root:x:0:0:root:/root:/bin/sh\nerror 6\nforged\n',
    '\npid 1\n1',
    'pid 1\n1',
    'passwd 999999\n',
  ];
  for (const content of forged) {
    it(JSON.stringify(content), () => {
      const parsed = parseSections(encode([['passwd', content], ['group', 'g:x:1:\n']]));
      assert.deepEqual([...parsed.keys()], ['passwd', 'group']);
      assert.equal(text(parsed, 'passwd'), content);
      assert.equal(text(parsed, 'error'), undefined);
      assert.equal(text(parsed, 'pid'), undefined);
      assert.equal(text(parsed, 'group'), 'g:x:1:\n');
    });
  }

  it('content that ends without a newline is followed by a proper header', () => {
    const parsed = parseSections(encode([['a', 'no newline'], ['b', 'x']]));
    assert.equal(text(parsed, 'a'), 'no newline');
    assert.equal(text(parsed, 'b'), 'x');
  });
});

describe('parseSections rejects malformed input', () => {
  const cases: [string, Buffer | string, RegExp][] = [
    ['header without newline', 'pid 4', /malformed at byte 0: no section header/],
    ['garbage line', 'hello world\n', /malformed at byte 0: bad section header/],
    ['missing length', 'pid\n4', /malformed at byte 0: bad section header/],
    ['negative length', 'pid -1\n', /bad section header/],
    ['non-decimal length', 'pid 0x4\n', /bad section header/],
    ['two spaces', 'pid  1\n1', /bad section header/],
    ['trailing space', 'pid 1 \n1', /bad section header/],
    ['CRLF header', 'pid 1\r\n1', /bad section header/],
    ['upper-case name', 'PID 1\n1', /bad section header/],
    ['digit in name', 'pid2 1\n1', /bad section header/],
    ['empty name', ' 1\n1', /bad section header/],
    ['blank line', '\n', /malformed at byte 0: bad section header/],
    ['stray bytes after a section', 'pid 1\n1x', /malformed at byte 7: no section header/],
    ['second header bad', 'pid 1\n1junk\n', /malformed at byte 7: bad section header/],
    ['extra newline after content', 'pid 1\n1\n', /malformed at byte 7: bad section header/],
    ['truncated content', 'config 10\n{"a":', /truncated in section config/],
    ['truncated second section', 'pid 1\n1stdout 5\nabc', /truncated in section stdout/],
    ['huge length', 'stdout 99999999999999999999\n', /truncated in section stdout/],
    ['binary header', Buffer.from([0xff, 0x20, 0x31, 0x0a, 0x00]), /bad section header/],
  ];
  for (const [name, input, message] of cases) {
    it(name, () => {
      const data = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
      assert.throws(() => parseSections(data), message);
    });
  }
});

describe('text', () => {
  const parsed = parseSections(encode([['pid', '42'], ['empty', ''], ['utf', Buffer.from('häh', 'utf8')]]));
  const cases: [string, string | undefined][] = [['pid', '42'], ['empty', ''], ['utf', 'häh'], ['absent', undefined]];
  for (const [name, want] of cases) {
    it(name, () => assert.equal(text(parsed, name), want));
  }
});
