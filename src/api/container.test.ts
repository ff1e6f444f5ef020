import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { chooseContainer } from './container.js';

function pod(annotations?: Record<string, string>, containers = ['app', 'sidecar']): V1Pod {
  return { metadata: { name: 'web-0', annotations }, spec: { containers: containers.map((name) => ({ name, image: 'img' })) } };
}

describe('chooseContainer', () => {
  const annotated = { 'kubectl.kubernetes.io/default-container': 'sidecar' };
  const cases: [string, { container?: string }, V1Pod, string | undefined][] = [
    ['spec.container wins over annotation', { container: 'app' }, pod(annotated), 'app'],
    ['spec.container even when not in pod', { container: 'ghost' }, pod(), 'ghost'],
    ['annotation when spec.container absent', {}, pod(annotated), 'sidecar'],
    ['annotation when spec.container empty', { container: '' }, pod(annotated), 'sidecar'],
    ['first container otherwise', {}, pod(), 'app'],
    ['first container when annotation empty', {}, pod({ 'kubectl.kubernetes.io/default-container': '' }), 'app'],
    ['other annotations ignored', {}, pod({ 'x/default-container': 'sidecar' }), 'app'],
    ['no containers', {}, pod(undefined, []), undefined],
    ['no spec at all', {}, { metadata: { name: 'p' } }, undefined],
  ];
  for (const [name, spec, p, want] of cases) {
    it(name, () => assert.equal(chooseContainer(spec, p), want));
  }
});
