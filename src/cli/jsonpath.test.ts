import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execute, parsePath, parseTemplate, toJsonPathPlus } from './jsonpath.js';

const list = {
  kind: 'List',
  items: [
    { metadata: { name: 'a', labels: { 'app.kubernetes.io/name': 'web' } }, spec: { user: 'alice', n: 3 }, status: { conditions: [{ type: 'Ready', status: 'True' }, { type: 'Authorized', status: 'True' }] } },
    { metadata: { name: 'b' }, spec: { user: 'bob', n: 10 } },
  ],
};
const run = (t: string, data: unknown = list): string => execute(parseTemplate(t), data);

describe('kubectl JSONPath templates', () => {
  it('prints each result of a path, a space between them, and text around it', () => {
    assert.equal(run('{.items[*].metadata.name}'), 'a b');
    assert.equal(run('names: {.items[*].metadata.name}!'), 'names: a b!');
    assert.equal(run('{.items[1].spec.n}'), '10');
    assert.equal(run('{.kind}'), 'List');
    assert.equal(run('{@.kind}'), 'List');
  });

  it('repeats a {range} body for each result, with quoted literals and escapes', () => {
    assert.equal(run('{range .items[*]}{.metadata.name}{"\\t"}{.spec.user}{"\\n"}{end}'), 'a\talice\nb\tbob\n');
    assert.equal(run("{range .items[*]}[{.metadata.name}]{end}"), '[a][b]');
    assert.equal(run('{range .items[*]}{range .status.conditions[*]}{.type},{end};{end}'), 'Ready,Authorized,;;');
  });

  it('reads keys with dots written as kubectl writes them, filters, recursion and slices', () => {
    assert.equal(run('{.items[0].metadata.labels.app\\.kubernetes\\.io/name}'), 'web');
    assert.equal(run("{.items[0].metadata.labels['app.kubernetes.io/name']}"), 'web');
    assert.equal(run('{.items[0].status.conditions[?(@.type=="Authorized")].status}'), 'True');
    assert.equal(run("{.items[?(@.spec.user=='bob')].metadata.name}"), 'b');
    assert.equal(run('{..user}'), 'alice bob');
    assert.equal(run('{.items[-1:].metadata.name}'), 'b');
  });

  it('prints a missing key as nothing (kubectl\'s --allow-missing-template-keys) and objects as compact JSON', () => {
    assert.equal(run('x{.items[0].nope}y'), 'xy');
    assert.equal(run('{.items[1].metadata}'), '{"name":"b"}');
    assert.equal(run('{.items[0].spec}'), '{"user":"alice","n":3}');
  });

  it('refuses malformed templates naming what is wrong', () => {
    assert.throws(() => parseTemplate('{.items'), /unclosed "\{" at position 1/);
    assert.throws(() => parseTemplate('{range .items[*]}{.a}'), /\{range\} without \{end\}/);
    assert.throws(() => parseTemplate('{end}'), /\{end\} without \{range\}/);
    assert.throws(() => parseTemplate('{metadata.name}'), /unexpected "m" in "metadata\.name"/);
    assert.throws(() => parseTemplate('{.items[0}'), /unclosed/);
  });

  it('spells paths for jsonpath-plus', () => {
    assert.equal(toJsonPathPlus('.metadata.labels.a\\.b'), "$['metadata']['labels']['a.b']");
    assert.equal(toJsonPathPlus('.items[*].x'), "$['items'][*]['x']");
    assert.equal(toJsonPathPlus('.a.*'), "$['a'][*]");
    assert.equal(toJsonPathPlus('@'), '$');
  });

  it('takes one path with or without braces for --sort-by and custom-columns', () => {
    assert.equal(execute(parsePath('.spec.user', '--sort-by'), list.items[0]), 'alice');
    assert.equal(execute(parsePath('{.spec.user}', '--sort-by'), list.items[0]), 'alice');
    assert.throws(() => parsePath('{.a}{.b}', '--sort-by'), /--sort-by: "\{\.a\}\{\.b\}" is not one path/);
  });
});
