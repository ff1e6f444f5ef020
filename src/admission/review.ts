/**
 * AdmissionReview (admission.k8s.io/v1) handling for ExecSessions, as pure
 * functions: the mutating side stamps the requester, the validating side checks
 * formats on CREATE and immutability on UPDATE. The HTTPS server only decodes,
 * calls these, and encodes.
 */
import type { ExecSessionSpec, Person } from '../api/types.js';
import { makeStamp } from '../signing/stamp.js';
import { validateCreate, validateUpdate } from './validate.js';

/** The parts of an AdmissionReview request we read. */
export interface AdmissionRequest {
  uid: string;
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  namespace?: string;
  name?: string;
  /** What is admitted (group, version, plural). */
  resource?: { group: string; version: string; resource: string };
  userInfo: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  object?: { metadata?: { name?: string; generateName?: string; namespace?: string }; spec?: ExecSessionSpec };
  oldObject?: { spec?: ExecSessionSpec };
  dryRun?: boolean;
}

/** The response we send back. */
export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; reason: string; message: string };
  patchType?: 'JSONPatch';
  patch?: string;
  warnings?: string[];
  /** Written into kube-apiserver's audit event, each key prefixed with the webhook's name (admit.ts). */
  auditAnnotations?: Record<string, string>;
}

function deny(uid: string, message: string, code = 422): AdmissionResponse {
  return { uid, allowed: false, status: { code, reason: code === 403 ? 'Forbidden' : 'Invalid', message } };
}

/** The authenticated requester, from the review's userInfo (never from the object). */
export function requesterOf(req: AdmissionRequest): Person {
  return {
    username: req.userInfo.username ?? '',
    ...(req.userInfo.uid ? { uid: req.userInfo.uid } : {}),
    groups: [...(req.userInfo.groups ?? [])],
    ...(req.userInfo.extra && Object.keys(req.userInfo.extra).length > 0 ? { extra: req.userInfo.extra } : {}),
  };
}

/**
 * Mutating webhook: on CREATE, writes the signed stamp over whatever the creator
 * put in spec.requester. A name from generateName is not known yet, so such
 * sessions are refused: the stamp binds the session's name.
 */
export function mutate(req: AdmissionRequest, key: Buffer, now: Date): AdmissionResponse {
  if (req.operation !== 'CREATE') return { uid: req.uid, allowed: true };
  const name = req.object?.metadata?.name ?? req.name;
  const spec = req.object?.spec;
  if (!name) return deny(req.uid, 'metadata.name is required: ExecSessions cannot use generateName, since the requester stamp binds the session\'s name');
  if (!spec) return deny(req.uid, 'spec is required');
  const requester = requesterOf(req);
  if (!requester.username) return deny(req.uid, 'the request has no authenticated user; execsession does not accept anonymous sessions', 403);
  const stamp = makeStamp(key, { namespace: req.namespace ?? '', name, spec }, requester, now);
  const patch = [{ op: spec.requester === undefined ? 'add' : 'replace', path: '/spec/requester', value: stamp }];
  const warnings = spec.requester !== undefined && spec.requester.username !== requester.username
    ? [`spec.requester is set by the server: it now names ${requester.username}, not ${spec.requester.username}`]
    : undefined;
  return { uid: req.uid, allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64'), ...(warnings ? { warnings } : {}) };
}

/** Validating webhook: formats (and that spec.notAfter is still to come, at `now`) on CREATE, immutability on UPDATE. */
export function validate(req: AdmissionRequest, now: Date): AdmissionResponse {
  const spec = req.object?.spec;
  if (req.operation === 'CREATE' && spec) {
    const problems = validateCreate(spec, now);
    return problems.length > 0 ? deny(req.uid, problems.join('; ')) : { uid: req.uid, allowed: true };
  }
  if (req.operation === 'UPDATE' && spec && req.oldObject?.spec) {
    const problems = validateUpdate(req.oldObject.spec, spec);
    return problems.length > 0 ? deny(req.uid, problems.join('; ')) : { uid: req.uid, allowed: true };
  }
  return { uid: req.uid, allowed: true };
}
