/**
 * The user store behind both the login form and the password grant. Plain
 * in-memory records: the tests need known credentials and group memberships
 * (alice is an admin, bob is not) to exercise per-application access rules.
 */
import { timingSafeEqual } from 'node:crypto';
import type { TestUser } from './types.js';

export const DEFAULT_USERS: TestUser[] = [
  {
    username: 'alice',
    password: 'alice-password',
    sub: '00u1alice000000000001',
    email: 'alice@example.test',
    name: 'Alice Admin',
    groups: ['admins', 'everyone'],
  },
  {
    username: 'bob',
    password: 'bob-password',
    sub: '00u1bob00000000000002',
    email: 'bob@example.test',
    name: 'Bob Builder',
    groups: ['developers', 'everyone'],
  },
];

export class UserStore {
  readonly #byUsername = new Map<string, TestUser>();
  readonly #bySub = new Map<string, TestUser>();

  constructor(users: TestUser[]) {
    for (const user of users) {
      this.#byUsername.set(user.username, user);
      this.#bySub.set(user.sub, user);
    }
  }

  /** Returns the user when the password matches, compared in constant time. */
  authenticate(username: unknown, password: unknown): TestUser | undefined {
    if (typeof username !== 'string' || typeof password !== 'string') return undefined;
    const user = this.#byUsername.get(username);
    if (!user) return undefined;
    const a = Buffer.from(user.password);
    const b = Buffer.from(password);
    return a.length === b.length && timingSafeEqual(a, b) ? user : undefined;
  }

  bySub(sub: string | undefined): TestUser | undefined {
    return sub === undefined ? undefined : this.#bySub.get(sub);
  }

  byUsername(username: string): TestUser | undefined {
    return this.#byUsername.get(username);
  }

  all(): Record<string, TestUser> {
    return Object.fromEntries(this.#byUsername);
  }

  /**
   * Standard OIDC claims of a user, released by scope the way `oidc-provider`
   * expects from `Account.claims()` (it filters them by the `claims` config).
   */
  oidcClaims(user: TestUser): Record<string, unknown> {
    const [given, ...family] = user.name.split(' ');
    return {
      sub: user.sub,
      name: user.name,
      given_name: given,
      family_name: family.join(' '),
      preferred_username: user.username,
      email: user.email,
      email_verified: true,
      groups: user.groups,
    };
  }
}
