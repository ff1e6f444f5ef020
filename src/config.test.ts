import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { ConfigError, HelpRequested, type OperatorConfig, loadConfig, usage } from './config.js';

const CONTAINERD_CONFIG = '/run/containerd/io.containerd.runtime.v2.task/k8s.io/{id}/config.json';

const DEFAULTS: Comparable = {
  kubeconfig: '',
  webhook: {
    namespace: 'execsession-system', secretName: 'execsession-operator', certSecret: '', certRefreshMs: 60_000, listenHost: '0.0.0.0', listenPort: 9443,
    endpoint: { service: { namespace: 'execsession-system', name: 'execsession-webhook', port: 443 } },
    client: { caFile: '' },
  },
  api: {
    listenHost: '0.0.0.0', listenPort: 8443, service: { namespace: 'execsession-system', name: 'execsession-api' }, publicServer: '', metrics: true,
    attach: { limitPerSession: 4, idleTimeoutMs: 1_800_000, pingIntervalMs: 30_000, pollMs: 2_000 },
    recording: { store: 'none', dir: '/var/lib/execsession/recordings', s3: { bucket: '', prefix: '', endpoint: '', region: 'us-east-1', forcePathStyle: false }, retentionMs: 0 },
  },
  controller: {
    namespace: 'execsession-system',
    helperImage: 'execsession-helper:0.1.0',
    helperPullPolicy: 'IfNotPresent',
    runtimePaths: { configPath: CONTAINERD_CONFIG, runcRoot: '/run/containerd/runc/k8s.io' },
    backend: 'auto',
    retentionMs: 3_600_000,
    startTimeoutMs: 120_000,
    outputLimit: 16384,
    warmHelpers: 0,
    warmHelperIdleMs: 600_000,
    recordedOutputLimit: 268435456,
  },
  concurrency: 16,
  leaderElect: true,
  leaderIdentity: hostname(),
  leaseName: 'execsession-operator',
  leaseDurationMs: 15_000,
  logLevel: 'info',
  audit: { sink: 'log', dir: '/var/log/execsession/audit' },
};

type Comparable = Omit<OperatorConfig, 'controller'> & { controller: Omit<OperatorConfig['controller'], 'stampKey'> };

/** The configuration without its function-valued seams, for deepEqual. */
function comparable(c: OperatorConfig): Comparable {
  const controller: Partial<OperatorConfig['controller']> = { ...c.controller };
  delete controller.stampKey;
  return { ...c, controller: controller as Comparable['controller'] };
}

describe('aggregated API flags', () => {
  it('takes the listen address, Service, public server and attach limits', () => {
    const a = loadConfig(['--api-listen', '10.250.0.1:0', '--api-service', 'ops/es-api', '--public-server', 'https://k8s.example.com:6443/', '--attach-limit', '2', '--attach-idle-timeout', '5m'], {}).api;
    assert.deepEqual([a.listenHost, a.listenPort, a.service, a.publicServer, a.attach.limitPerSession, a.attach.idleTimeoutMs],
      ['10.250.0.1', 0, { namespace: 'ops', name: 'es-api' }, 'https://k8s.example.com:6443', 2, 300_000]);
  });

  it('serves /metrics unless --metrics=false (flag or environment)', () => {
    assert.equal(loadConfig([], {}).api.metrics, true);
    assert.equal(loadConfig(['--metrics=false'], {}).api.metrics, false);
    assert.equal(loadConfig([], { EXECSESSION_METRICS: 'false' }).api.metrics, false);
  });

  it('keeps no warm helpers unless asked, and refuses a negative pool or an idle lifetime under a minute', () => {
    assert.equal(loadConfig([], {}).controller.warmHelpers, 0);
    assert.equal(loadConfig(['--warm-helpers=0'], {}).controller.warmHelpers, 0);
    assert.throws(() => loadConfig(['--warm-helpers=-1'], {}), /--warm-helpers must be a whole number \(0 or more\), got "-1"/);
    assert.throws(() => loadConfig(['--warm-helper-idle=30s'], {}), /--warm-helper-idle must be at least 1m/);
  });

  it('records to a directory with --recording-store=file, and refuses other stores and relative paths', () => {
    assert.deepEqual(loadConfig(['--recording-store=file', '--recording-dir=/r', '--recording-retention=90h'], {}).api.recording, { store: 'file', dir: '/r', s3: { bucket: '', prefix: '', endpoint: '', region: 'us-east-1', forcePathStyle: false }, retentionMs: 90 * 3_600_000 });
    assert.equal(loadConfig([], { EXECSESSION_RECORDING_STORE: 'file' }).api.recording.store, 'file');
    assert.throws(() => loadConfig(['--recording-store=gcs'], {}), /--recording-store must be file, s3 or none, got "gcs"/);
    assert.throws(() => loadConfig(['--recording-store=file', '--recording-dir=rec'], {}), /--recording-dir must be an absolute path/);
    assert.throws(() => loadConfig(['--recording-retention=forever'], {}), /recording-retention/);
  });

  it('records to a bucket with --recording-store=s3, and refuses a missing bucket and credentials in the endpoint', () => {
    const env = { EXECSESSION_RECORDING_STORE: 's3', EXECSESSION_RECORDING_S3_BUCKET: 'audit', EXECSESSION_RECORDING_S3_ENDPOINT: 'http://127.0.0.1:8333/', EXECSESSION_RECORDING_S3_PATH_STYLE: 'true' };
    assert.deepEqual(loadConfig(['--recording-s3-prefix=/execsession'], env).api.recording.s3, { bucket: 'audit', prefix: 'execsession/', endpoint: 'http://127.0.0.1:8333', region: 'us-east-1', forcePathStyle: true });
    assert.throws(() => loadConfig(['--recording-store=s3'], {}), /--recording-s3-bucket must name a bucket .*got ""/);
    assert.throws(() => loadConfig(['--recording-s3-endpoint=http://key:secret@s3.local'], env), /without a path or credentials/);
    assert.throws(() => loadConfig(['--recording-s3-path-style=yes'], env), /--recording-s3-path-style must be true or false/);
    assert.throws(() => loadConfig(['--recording-s3-prefix=a/../b'], env), /must not contain "\.\."/);
  });

  it('writes audit events to the log by default, to a directory or the recording store when asked, and refuses what cannot work', () => {
    assert.deepEqual(loadConfig([], {}).audit, { sink: 'log', dir: '/var/log/execsession/audit' });
    assert.deepEqual(loadConfig(['--audit-sink=file', '--audit-dir=/a'], {}).audit, { sink: 'file', dir: '/a' });
    assert.equal(loadConfig([], { EXECSESSION_AUDIT_SINK: 'none' }).audit.sink, 'none');
    assert.equal(loadConfig(['--audit-sink=recording', '--recording-store=file'], {}).audit.sink, 'recording');
    assert.throws(() => loadConfig(['--audit-sink=syslog'], {}), /--audit-sink must be log, file, recording or none, got "syslog"/);
    assert.throws(() => loadConfig(['--audit-sink=file', '--audit-dir=audit'], {}), /--audit-dir must be an absolute path/);
    assert.throws(() => loadConfig(['--audit-sink=recording'], {}), /needs a recording store/);
  });

  it('refuses a public server with a path, and a bad listen address', () => {
    assert.throws(() => loadConfig(['--public-server', 'https://k8s.example.com/api'], {}), /--public-server must be https:\/\/HOST\[:PORT\]/);
    assert.throws(() => loadConfig(['--api-listen', '8443'], {}), /--api-listen must be HOST:PORT/);
  });
});

describe('webhook flags', () => {
  it('advertises the listen address when it is a specific one', () => {
    const w = loadConfig(['--webhook-listen', '10.250.0.1:0'], {}).webhook;
    assert.deepEqual([w.listenHost, w.listenPort, w.endpoint], ['10.250.0.1', 0, {}]);
  });
  it('takes an explicit URL or Service', () => {
    assert.deepEqual(loadConfig(['--webhook-url', 'https://hooks.example:8443'], {}).webhook.endpoint, { url: 'https://hooks.example:8443' });
    assert.deepEqual(loadConfig(['--webhook-service', 'ops/hook'], {}).webhook.endpoint, { service: { namespace: 'ops', name: 'hook', port: 443 } });
  });
  it('refuses malformed values, naming the flag', () => {
    throwsConfig(['--webhook-listen', '9443'], {}, /--webhook-listen must be HOST:PORT/);
    throwsConfig(['--webhook-url', 'http://x'], {}, /--webhook-url must be https/);
    throwsConfig(['--webhook-service', 'just-a-name'], {}, /--webhook-service must be NAMESPACE\/NAME/);
  });
});

describe('webhook client flags', () => {
  it('trust the cluster\'s requestheader CA and allowed names by default', () => {
    assert.deepEqual(loadConfig([], {}).webhook.client, { caFile: '' });
  });
  it('take a CA file and a comma-separated list of names', () => {
    assert.deepEqual(loadConfig(['--webhook-client-ca', '/etc/ca.pem', '--webhook-client-names', 'kube-apiserver, front-proxy-client,'], {}).webhook.client,
      { caFile: '/etc/ca.pem', names: ['kube-apiserver', 'front-proxy-client'] });
  });
  it('an empty list of names, by flag or environment, accepts any certificate of the CA', () => {
    assert.deepEqual(loadConfig(['--webhook-client-names='], {}).webhook.client, { caFile: '', names: [] });
    assert.deepEqual(loadConfig([], { EXECSESSION_WEBHOOK_CLIENT_NAMES: '' }).webhook.client, { caFile: '', names: [] });
  });
});

describe('certificate flags', () => {
  it('self-managed by default, re-read every minute when from a Secret', () => {
    const w = loadConfig([], {}).webhook;
    assert.deepEqual([w.secretName, w.certSecret, w.certRefreshMs], ['execsession-operator', '', 60_000]);
    assert.equal(loadConfig(['--cert-secret', 'execsession-serving'], {}).webhook.secretName, 'execsession-operator', 'the stamp key stays in the operator\'s Secret');
  });
  it('refuses a bad Secret name, the operator\'s own Secret, and a refresh under a second', () => {
    throwsConfig(['--cert-secret', 'Serving_Certs'], {}, /--cert-secret must be a Secret name/);
    throwsConfig(['--cert-secret', 'execsession-operator'], {}, /--cert-secret names the operator's own Secret "execsession-operator".*execsession-serving/);
    throwsConfig(['--cert-secret', 'ops', '--webhook-secret', 'ops'], {}, /operator's own Secret "ops"/);
    throwsConfig(['--cert-refresh', '500ms'], {}, /--cert-refresh must be at least 1s, got "500ms"/);
    throwsConfig(['--cert-refresh', 'often'], {}, /^--cert-refresh: invalid duration "often"/);
  });
});

function throwsConfig(argv: string[], env: NodeJS.ProcessEnv, message: RegExp): void {
  assert.throws(() => loadConfig(argv, env), (e: unknown) => {
    assert.ok(e instanceof ConfigError, `not a ConfigError: ${String(e)}`);
    assert.ok(e instanceof Error);
    assert.match(e.message, message);
    return true;
  });
}

describe('loadConfig defaults', () => {
  it('no flags, no environment', () => assert.deepEqual(comparable(loadConfig([], {})), DEFAULTS));

  it('ignores unrelated environment', () => {
    assert.deepEqual(comparable(loadConfig([], { HOME: '/root', NAMESPACE: 'x', EXECSESSION: 'y', execsession_namespace: 'z' })), DEFAULTS);
  });

  it('KUBECONFIG is the kubeconfig fallback', () => assert.equal(loadConfig([], { KUBECONFIG: '/k' }).kubeconfig, '/k'));
  it('POD_NAME is the identity fallback', () => assert.equal(loadConfig([], { POD_NAME: 'op-0' }).leaderIdentity, 'op-0'));
});

/** A flag, its environment variable, a value, and where the value lands. */
const FLAGS: [string, string, string, (c: OperatorConfig) => unknown, unknown][] = [
  ['kubeconfig', 'EXECSESSION_KUBECONFIG', '/etc/kube.conf', (c) => c.kubeconfig, '/etc/kube.conf'],
  ['namespace', 'EXECSESSION_NAMESPACE', 'ops', (c) => c.controller.namespace, 'ops'],
  ['helper-image', 'EXECSESSION_HELPER_IMAGE', 'registry.local/busybox:1.37', (c) => c.controller.helperImage, 'registry.local/busybox:1.37'],
  ['helper-pull-policy', 'EXECSESSION_HELPER_PULL_POLICY', 'Always', (c) => c.controller.helperPullPolicy, 'Always'],
  ['runtime-config-path', 'EXECSESSION_RUNTIME_CONFIG_PATH', '/run/containers/storage/overlay-containers/{id}/userdata/config.json',
    (c) => c.controller.runtimePaths.configPath, '/run/containers/storage/overlay-containers/{id}/userdata/config.json'],
  ['runtime-root', 'EXECSESSION_RUNTIME_ROOT', '/run/runc', (c) => c.controller.runtimePaths.runcRoot, '/run/runc'],
  ['retention', 'EXECSESSION_RETENTION', '2h30m', (c) => c.controller.retentionMs, 9_000_000],
  ['start-timeout', 'EXECSESSION_START_TIMEOUT', '45s', (c) => c.controller.startTimeoutMs, 45_000],
  ['output-limit', 'EXECSESSION_OUTPUT_LIMIT', '1048576', (c) => c.controller.outputLimit, 1_048_576],
  ['warm-helpers', 'EXECSESSION_WARM_HELPERS', '2', (c) => c.controller.warmHelpers, 2],
  ['warm-helper-idle', 'EXECSESSION_WARM_HELPER_IDLE', '5m', (c) => c.controller.warmHelperIdleMs, 300_000],
  ['recorded-output-limit', 'EXECSESSION_RECORDED_OUTPUT_LIMIT', '1048576', (c) => c.controller.recordedOutputLimit, 1_048_576],
  ['concurrency', 'EXECSESSION_CONCURRENCY', '16', (c) => c.concurrency, 16],
  ['leader-elect', 'EXECSESSION_LEADER_ELECT', 'false', (c) => c.leaderElect, false],
  ['leader-identity', 'EXECSESSION_LEADER_IDENTITY', 'replica-a', (c) => c.leaderIdentity, 'replica-a'],
  ['lease-name', 'EXECSESSION_LEASE_NAME', 'my-lease', (c) => c.leaseName, 'my-lease'],
  ['lease-duration', 'EXECSESSION_LEASE_DURATION', '1m', (c) => c.leaseDurationMs, 60_000],
  ['log-level', 'EXECSESSION_LOG_LEVEL', 'debug', (c) => c.logLevel, 'debug'],
  ['webhook-secret', 'EXECSESSION_WEBHOOK_SECRET', 'my-operator', (c) => c.webhook.secretName, 'my-operator'],
  ['cert-secret', 'EXECSESSION_CERT_SECRET', 'execsession-serving', (c) => c.webhook.certSecret, 'execsession-serving'],
  ['cert-refresh', 'EXECSESSION_CERT_REFRESH', '2s', (c) => c.webhook.certRefreshMs, 2_000],
  ['webhook-client-ca', 'EXECSESSION_WEBHOOK_CLIENT_CA', '/etc/ca.pem', (c) => c.webhook.client.caFile, '/etc/ca.pem'],
  ['webhook-client-names', 'EXECSESSION_WEBHOOK_CLIENT_NAMES', 'front-proxy-client', (c) => c.webhook.client.names, ['front-proxy-client']],
];

describe('loadConfig reads every flag', () => {
  for (const [flag, envName, value, pick, want] of FLAGS) {
    it(`--${flag} VALUE`, () => assert.deepEqual(pick(loadConfig([`--${flag}`, value], {})), want));
    it(`--${flag}=VALUE`, () => assert.deepEqual(pick(loadConfig([`--${flag}=${value}`], {})), want));
    it(`${envName}`, () => assert.deepEqual(pick(loadConfig([], { [envName]: value })), want));
  }
});

describe('loadConfig precedence', () => {
  it('flags override the environment', () => {
    const c = loadConfig(['--namespace', 'from-flag', '--concurrency=2', '--retention', '5m'], {
      EXECSESSION_NAMESPACE: 'from-env', EXECSESSION_CONCURRENCY: '8', EXECSESSION_RETENTION: '1h',
    });
    assert.equal(c.controller.namespace, 'from-flag');
    assert.equal(c.concurrency, 2);
    assert.equal(c.controller.retentionMs, 300_000);
  });

  it('a flag overrides a bad environment value', () => {
    assert.equal(loadConfig(['--concurrency', '3'], { EXECSESSION_CONCURRENCY: 'lots' }).concurrency, 3);
  });

  it('EXECSESSION_NAMESPACE sets the namespace', () => {
    assert.equal(loadConfig([], { EXECSESSION_NAMESPACE: 'operators' }).controller.namespace, 'operators');
  });

  it('the last of a repeated flag wins', () => assert.equal(loadConfig(['--namespace=a', '--namespace=b'], {}).controller.namespace, 'b'));

  const identity: [string, string[], NodeJS.ProcessEnv, string][] = [
    ['flag over env and POD_NAME', ['--leader-identity', 'f'], { EXECSESSION_LEADER_IDENTITY: 'e', POD_NAME: 'p' }, 'f'],
    ['env over POD_NAME', [], { EXECSESSION_LEADER_IDENTITY: 'e', POD_NAME: 'p' }, 'e'],
    ['POD_NAME over host name', [], { POD_NAME: 'p' }, 'p'],
    ['host name last', [], {}, hostname()],
  ];
  for (const [name, argv, env, want] of identity) {
    it(`leader identity: ${name}`, () => assert.equal(loadConfig(argv, env).leaderIdentity, want));
  }

  const kubeconfig: [string, string[], NodeJS.ProcessEnv, string][] = [
    ['flag over everything', ['--kubeconfig', '/f'], { EXECSESSION_KUBECONFIG: '/e', KUBECONFIG: '/k' }, '/f'],
    ['EXECSESSION_KUBECONFIG over KUBECONFIG', [], { EXECSESSION_KUBECONFIG: '/e', KUBECONFIG: '/k' }, '/e'],
    ['KUBECONFIG', [], { KUBECONFIG: '/k' }, '/k'],
  ];
  for (const [name, argv, env, want] of kubeconfig) {
    it(`kubeconfig: ${name}`, () => assert.equal(loadConfig(argv, env).kubeconfig, want));
  }

  const leaderElect: [string, boolean][] = [['true', true], ['false', false]];
  for (const [value, want] of leaderElect) {
    it(`--leader-elect ${value}`, () => assert.equal(loadConfig(['--leader-elect', value], {}).leaderElect, want));
  }
});

describe('loadConfig --help', () => {
  for (const argv of [['--help'], ['--namespace', 'x', '--help']]) {
    it(argv.join(' '), () => {
      assert.throws(() => loadConfig(argv, {}), (e: unknown) => {
        assert.ok(e instanceof HelpRequested);
        assert.equal(e.message, usage());
        return true;
      });
    });
  }

  it('usage lists every flag with its environment variable and default', () => {
    const text = usage();
    assert.match(text, /^usage: /);
    for (const [flag, envName] of FLAGS) {
      assert.match(text, new RegExp(`--${flag} `));
      assert.ok(text.includes(`env ${envName}`), envName);
    }
    assert.ok(text.includes('default: execsession-helper:0.1.0'));
    assert.ok(text.includes('default: 15s'));
  });
});

describe('loadConfig rejects bad values, naming the flag', () => {
  const cases: [string, string[], NodeJS.ProcessEnv, RegExp][] = [
    ['duration without unit', ['--retention', '60'], {}, /^--retention: invalid duration "60"/],
    ['zero duration', ['--start-timeout=0s'], {}, /^--start-timeout: .*more than zero/],
    ['duration with a day unit', ['--lease-duration', '1d'], {}, /^--lease-duration: invalid duration "1d"/],
    ['duration over 7 days', ['--retention', '200h'], {}, /^--retention: .*at most 168h/],
    ['bad duration from env', [], { EXECSESSION_START_TIMEOUT: 'soon' }, /^--start-timeout: invalid duration "soon"/],
    ['zero concurrency', ['--concurrency', '0'], {}, /^--concurrency must be a positive whole number, got "0"$/],
    ['negative concurrency', ['--concurrency=-1'], {}, /^--concurrency must be a positive whole number, got "-1"$/],
    ['fractional concurrency', ['--concurrency', '1.5'], {}, /^--concurrency .*got "1.5"/],
    ['word for concurrency', ['--concurrency', 'four'], {}, /^--concurrency .*got "four"/],
    ['hex output limit', ['--output-limit', '0x100'], {}, /^--output-limit must be a positive whole number, got "0x100"$/],
    ['exponent output limit', ['--output-limit', '1e6'], {}, /^--output-limit .*got "1e6"/],
    ['empty output limit', ['--output-limit', ''], {}, /^--output-limit .*got ""/],
    ['bad integer from env', [], { EXECSESSION_OUTPUT_LIMIT: '16k' }, /^--output-limit .*got "16k"/],
    ['leader-elect yes', ['--leader-elect', 'yes'], {}, /^--leader-elect must be true or false, got "yes"$/],
    ['leader-elect True', ['--leader-elect=True'], {}, /^--leader-elect must be true or false, got "True"$/],
    ['leader-elect from env', [], { EXECSESSION_LEADER_ELECT: '1' }, /^--leader-elect must be true or false, got "1"$/],
    ['metrics off', ['--metrics', 'off'], {}, /^--metrics must be true or false, got "off"$/],
    ['runtime-config-path without {id}', ['--runtime-config-path', '/run/containerd/config.json'], {}, /^--runtime-config-path must contain \{id\}/],
    ['runtime-config-path with $id', ['--runtime-config-path', '/run/$id/config.json'], {}, /^--runtime-config-path must contain \{id\}/],
    ['runtime-config-path from env', [], { EXECSESSION_RUNTIME_CONFIG_PATH: '/x' }, /^--runtime-config-path must contain \{id\}/],
  ];
  for (const [name, argv, env, message] of cases) {
    it(name, () => throwsConfig(argv, env, message));
  }
});

describe('loadConfig rejects bad command lines with the usage', () => {
  const cases: [string, string[], RegExp][] = [
    ['unknown flag', ['--foo'], /Unknown option '--foo'/],
    ['unknown flag with value', ['--helper-img=busybox'], /Unknown option '--helper-img'/],
    ['single-dash flag', ['-n', 'x'], /Unknown option '-n'/],
    ['positional argument', ['start'], /Unexpected argument 'start'/],
    ['flag without its value', ['--namespace'], /Option '--namespace <value>' argument missing/],
    ['--help with a value', ['--help=yes'], /--help/],
  ];
  for (const [name, argv, message] of cases) {
    it(name, () => {
      throwsConfig(argv, {}, message);
      throwsConfig(argv, {}, /usage: npm start -- \[flags\]/);
    });
  }
});
