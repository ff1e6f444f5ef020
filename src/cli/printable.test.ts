import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import type { ExecSession } from '../api/types.js';
import { parseOutput, printObjects, printTable, type Output, type Table } from './printers.js';
import { printable, printableInline } from './printable.js';

// What finding 10 sent: a title change, a screen clear and a colour, and an 8-bit CSI and a bidi override.
const HOSTILE = 'INC-1\x1b]0;pwned\x07\x1b[2J\x1b[31mred\x9b2J\u202eevil';
// Nothing a terminal acts on: no C0 but line feed, no DEL, no C1, no bidi override.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('printable (finding 10)', () => {
  it('escapes escape sequences, BEL, 8-bit CSI and bidi overrides, and keeps line feeds', () => {
    assert.equal(printable(`${HOSTILE}\nnext\tcol`), 'INC-1\\x1b]0;pwned\\x07\\x1b[2J\\x1b[31mred\\x9b2J\\u202eevil\nnext\tcol');
  });

  it('escapes line feeds, tabs and carriage returns within one cell', () => {
    assert.equal(printableInline('a\nb\tc\rd'), 'a\\nb\\tc\\rd');
  });

  it('leaves ordinary text, and non-ASCII letters, alone', () => {
    assert.equal(printable('Zoë fixes INC-1 — 東京'), 'Zoë fixes INC-1 — 東京');
  });

  const session: ExecSession = {
    apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession',
    metadata: { name: 'dbg', namespace: 'shop', creationTimestamp: '2026-11-22T10:00:00Z' as unknown as Date, annotations: { note: HOSTILE } },
    spec: { podName: 'db', user: 'alice', reason: HOSTILE },
    status: { phase: 'Ready', message: `waiting\x1b[1A${HOSTILE}` },
  };

  /** What kube-apiserver's Table holds for it: the cells are the object's strings, as they were written. */
  const table: Table = {
    kind: 'Table', columnDefinitions: [{ name: 'Name', type: 'string' }, { name: 'Phase', type: 'string' }, { name: 'Reason', type: 'string', priority: 1 }],
    rows: [{ cells: ['dbg', 'Ready', HOSTILE], object: { metadata: { name: 'dbg', namespace: `shop${HOSTILE}` } } }],
  };
  const render = (sessions: ExecSession[], single: boolean, output: string | undefined): string => {
    const o: Output = parseOutput(output);
    return o.kind === 'table' ? printTable(table, table.rows, { wide: o.wide, namespaces: true, headers: true }) : printObjects(sessions, single, o);
  };

  for (const output of [undefined, 'wide', 'json', 'yaml', 'name', 'jsonpath={.spec.reason} {.metadata.annotations}', 'custom-columns=R:.spec.reason,M:.status.message']) {
    it(`get -o ${output ?? '(table)'} prints no control character a user wrote`, () => {
      const text = render([session], true, output);
      assert.doesNotMatch(text, RAW_CONTROL);
      if (output === 'wide') assert.match(text, /INC-1\\x1b\]0;pwned\\x07\\x1b\[2J\\x1b\[31mred\\x9b2J\\u202eevil\n$/);
    });
  }

  it('JSON and YAML still read back as what was written', () => {
    const json = JSON.parse(render([session], true, 'json')) as ExecSession;
    assert.equal(json.spec.reason, HOSTILE);
    const yaml = parse(render([session], true, 'yaml')) as ExecSession;
    assert.equal(yaml.spec.reason, HOSTILE);
    assert.equal(yaml.metadata.annotations?.note, HOSTILE);
    assert.equal(yaml.status?.message, `waiting\x1b[1A${HOSTILE}`);
    const list = parse(render([session, session], false, 'yaml')) as { items: ExecSession[] };
    assert.equal(list.items[1]?.spec.reason, HOSTILE);
  });
});
