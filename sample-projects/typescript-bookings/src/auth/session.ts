/**
 * Accounts and login sessions. A session is an opaque token the server looks up in its own
 * table, so logging out (or expiry) ends it immediately.
 */

import { createHash } from "node:crypto";

const USER_ID = /^[a-z0-9_]{3,32}$/;
export const MIN_PASSWORD_LENGTH = 8;

export class AuthError extends Error {
  override name = "AuthError";
}

interface Session {
  readonly userId: string;
  readonly expiresAt: number;
}

export interface SessionOptions {
  readonly ttlMs?: number;
  readonly now?: () => number;
}

function hashPassword(password: string): string {
  return createHash("sha256").update(password).digest("hex");
}

export class SessionManager {
  readonly #passwords = new Map<string, string>();
  readonly #sessions = new Map<string, Session>();
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: SessionOptions = {}) {
    this.#ttlMs = options.ttlMs ?? 60 * 60 * 1000;
    this.#now = options.now ?? (() => Date.now());
  }

  register(userId: string, password: string): void {
    if (!USER_ID.test(userId)) {
      throw new AuthError("user ids are 3-32 characters: a-z, 0-9 and _");
    }
    if (password.length < MIN_PASSWORD_LENGTH) {
      throw new AuthError(`passwords need at least ${String(MIN_PASSWORD_LENGTH)} characters`);
    }
    if (this.#passwords.has(userId)) {
      throw new AuthError(`${userId} is taken`);
    }
    this.#passwords.set(userId, hashPassword(password));
  }

  /** Check the password and open a session; returns its token. */
  login(userId: string, password: string): string {
    const stored = this.#passwords.get(userId);
    if (stored === undefined) {
      throw new AuthError("unknown user");
    }
    if (stored !== hashPassword(password)) {
      throw new AuthError("wrong password");
    }
    const token = Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2);
    this.#sessions.set(token, { userId, expiresAt: this.#now() + this.#ttlMs });
    return token;
  }

  /** The user a live session belongs to. */
  verify(token: string): string {
    const session = this.#sessions.get(token);
    if (session === undefined) {
      throw new AuthError("invalid session");
    }
    if (session.expiresAt <= this.#now()) {
      this.#sessions.delete(token);
      throw new AuthError("session expired");
    }
    return session.userId;
  }

  logout(token: string): void {
    this.#sessions.delete(token);
  }
}
