// Matching authenticated identities against policy subjects, the way RBAC
// matches rbacv1.Subject: users by name, groups by membership, ServiceAccounts
// by their `system:serviceaccount:NS:NAME` user name.
import type { Person } from '../api/types.js';
import type { Subject } from './types.js';

/** The user name the API server gives a ServiceAccount's tokens. */
export function serviceAccountUsername(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

/** True when `person` is what `subject` names. */
export function matchesSubject(person: Person, subject: Subject): boolean {
  switch (subject.kind) {
    case 'User':
      return person.username === subject.name;
    case 'Group':
      return person.groups.includes(subject.name);
    case 'ServiceAccount':
      // Without a namespace the subject is invalid (validatePolicy) and matches nobody.
      return subject.namespace !== undefined && subject.namespace !== ''
        && person.username === serviceAccountUsername(subject.namespace, subject.name);
    default:
      return false;
  }
}

/** True when `person` matches at least one of `subjects`. */
export function matchesAnySubject(person: Person, subjects: readonly Subject[] | undefined): boolean {
  return (subjects ?? []).some((s) => matchesSubject(person, s));
}

/** `user "alice"`, for messages. */
export function describePerson(person: Person): string {
  return `user ${JSON.stringify(person.username)}`;
}

/** `Group "developers"`, `ServiceAccount "ci/deployer"`, for messages. */
export function describeSubject(subject: Subject): string {
  const name = subject.kind === 'ServiceAccount' ? `${subject.namespace ?? '?'}/${subject.name}` : subject.name;
  return `${subject.kind} ${JSON.stringify(name)}`;
}
