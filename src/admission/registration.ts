/**
 * The webhook configurations the operator keeps registered: how kube-apiserver
 * reaches the webhook (a URL, or a Service in the cluster), with the CA that
 * signed its certificate. The session webhooks fail closed: if the webhook cannot
 * be reached, no ExecSession is created or changed. The uninstall guard fails
 * open (src/admission/uninstall-guard.ts).
 */
import type { V1MutatingWebhookConfiguration, V1ValidatingWebhookConfiguration } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION } from '../api/types.js';
import { GUARDED_RESOURCES, PART_OF } from './uninstall-guard.js';

export const WEBHOOK_CONFIGURATION_NAME = 'execsession.dev';

/** Where kube-apiserver sends admission reviews. */
export type WebhookEndpoint = { url: string } | { service: { namespace: string; name: string; port: number } };

function clientConfig(e: WebhookEndpoint, path: string, caBundle: string): { url?: string; service?: object; caBundle: string } {
  return 'url' in e ? { url: `${e.url.replace(/\/$/, '')}${path}`, caBundle } : { service: { ...e.service, path }, caBundle };
}

/** Both configurations for the endpoint, trusting the given CA (PEM). */
export function webhookConfigurations(e: WebhookEndpoint, caPem: string): { mutating: V1MutatingWebhookConfiguration; validating: V1ValidatingWebhookConfiguration } {
  const caBundle = Buffer.from(caPem).toString('base64');
  const rule = (operations: string[]): object => ({ apiGroups: [GROUP], apiVersions: [VERSION], operations, resources: [PLURAL], scope: 'Namespaced' });
  const common = { failurePolicy: 'Fail', sideEffects: 'None', admissionReviewVersions: ['v1'], timeoutSeconds: 10, matchPolicy: 'Equivalent' };
  const metadata = { name: WEBHOOK_CONFIGURATION_NAME, labels: { 'app.kubernetes.io/component': 'execsession-operator' } };
  return {
    mutating: {
      apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata,
      webhooks: [{ name: `stamp.${GROUP}`, clientConfig: clientConfig(e, '/mutate', caBundle), rules: [rule(['CREATE'])], reinvocationPolicy: 'Never', ...common }],
    } as V1MutatingWebhookConfiguration,
    validating: {
      apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata,
      webhooks: [
        { name: `validate.${GROUP}`, clientConfig: clientConfig(e, '/validate', caBundle), rules: [rule(['CREATE', 'UPDATE'])], ...common },
        // The uninstall guard (src/admission/uninstall-guard.ts): only the install's own objects, and
        // it fails open, so that an operator that is down never blocks its own removal.
        {
          name: `uninstall.${GROUP}`, clientConfig: clientConfig(e, '/uninstall', caBundle),
          rules: GUARDED_RESOURCES.map((g) => ({ ...g, apiVersions: ['*'], operations: ['DELETE'], scope: '*' })),
          objectSelector: { matchLabels: { [PART_OF.key]: PART_OF.value } },
          ...common, failurePolicy: 'Ignore', timeoutSeconds: 5,
        },
      ],
    } as V1ValidatingWebhookConfiguration,
  };
}
