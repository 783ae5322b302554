import type { TokenPrincipal } from "./token-verifier.js";

// Contained database users created FROM EXTERNAL PROVIDER. Azure SQL resolves the name through the
// directory when the user is created and stores an id: the object id for users and groups, the
// application id for service principals and managed identities. A token logs in only if its
// principal matches a stored user. `resolvePrincipalName` plays the directory here (a name it does
// not know is refused, like Azure's 33130); without a resolver, a name that looks like a UPN is
// matched against the token's UPN and anything else is refused.

export interface DatabaseUser {
  name: string;
  objectId: string | undefined;
  appId: string | undefined;
  /** Set when the user was created by UPN without a directory lookup. */
  upn: string | undefined;
  roles: string[];
  /** Set by `ALTER USER [x] WITH DEFAULT_SCHEMA = [s]`; recorded, not enforced. */
  defaultSchema: string | undefined;
  createdAt: Date;
}

export interface CreateUserInput {
  name: string;
  objectId?: string;
  appId?: string;
}

export type ResolvePrincipalName = (name: string) => { objectId?: string; appId?: string } | undefined;

export class PrincipalNotFoundError extends Error {
  override name = "PrincipalNotFoundError";
}

export class UserExistsError extends Error {
  override name = "UserExistsError";
}

const same = (a: string | undefined, b: string | undefined): boolean =>
  a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();

export class DatabaseUsers {
  private readonly users = new Map<string, DatabaseUser>();
  /** Object id (lower case) -> tokens issued before this time (epoch ms) are refused; Infinity: all. */
  private readonly revoked = new Map<string, number>();

  constructor(private readonly resolve: ResolvePrincipalName | undefined) {}

  create(input: CreateUserInput, now: Date): DatabaseUser {
    const key = input.name.toLowerCase();
    if (this.users.has(key)) throw new UserExistsError(input.name);
    let { objectId, appId } = input;
    let upn: string | undefined;
    if (objectId === undefined && appId === undefined) {
      if (this.resolve) {
        const resolved = this.resolve(input.name);
        if (!resolved) throw new PrincipalNotFoundError(input.name);
        ({ objectId, appId } = resolved);
      } else if (input.name.includes("@")) {
        upn = input.name;
      } else {
        throw new PrincipalNotFoundError(input.name);
      }
    }
    const user: DatabaseUser = {
      name: input.name,
      objectId,
      appId,
      upn,
      roles: [],
      defaultSchema: undefined,
      createdAt: now,
    };
    this.users.set(key, user);
    return user;
  }

  drop(name: string): boolean {
    return this.users.delete(name.toLowerCase());
  }

  get(name: string): DatabaseUser | undefined {
    return this.users.get(name.toLowerCase());
  }

  list(): DatabaseUser[] {
    return [...this.users.values()].map((user) => ({ ...user, roles: [...user.roles] }));
  }

  /** Every token of the principal is refused; with `tokensIssuedBefore`, only tokens issued (iat) before it. */
  revoke(objectId: string, tokensIssuedBefore?: Date): void {
    this.revoked.set(objectId.toLowerCase(), tokensIssuedBefore?.getTime() ?? Number.POSITIVE_INFINITY);
  }

  unrevoke(objectId: string): void {
    this.revoked.delete(objectId.toLowerCase());
  }

  isRevoked(principal: TokenPrincipal, tokenIssuedAt?: Date): boolean {
    return this.isRevokedObjectId(principal.objectId, tokenIssuedAt);
  }

  /** A token without an issue time counts as issued before any cutoff. */
  isRevokedObjectId(objectId: string | undefined, tokenIssuedAt?: Date): boolean {
    if (objectId === undefined) return false;
    const cutoff = this.revoked.get(objectId.toLowerCase());
    if (cutoff === undefined) return false;
    return tokenIssuedAt === undefined || tokenIssuedAt.getTime() < cutoff;
  }

  /** The database user a token principal logs in as, if any. */
  match(principal: TokenPrincipal): DatabaseUser | undefined {
    for (const user of this.users.values()) {
      if (same(user.objectId, principal.objectId)) return user;
      if (principal.kind === "app" && same(user.appId, principal.appId)) return user;
      if (principal.kind === "user" && same(user.upn, principal.name)) return user;
    }
    return undefined;
  }
}
