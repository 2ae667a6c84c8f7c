import { beforeEach, describe, expect, it } from "vitest";

import { AuthError, SessionManager } from "../src/auth/session.js";

let now = 1_700_000_000_000;
let sessions: SessionManager;

beforeEach(() => {
  now = 1_700_000_000_000;
  sessions = new SessionManager({ ttlMs: 60_000, now: () => now });
  sessions.register("ada", "correct horse");
});

describe("SessionManager", () => {
  it("logs in and verifies the session", () => {
    const token = sessions.login("ada", "correct horse");
    expect(sessions.verify(token)).toBe("ada");
  });

  it("refuses bad credentials", () => {
    expect(() => sessions.login("ada", "wrong horse")).toThrow(AuthError);
    expect(() => sessions.login("bob", "correct horse")).toThrow(AuthError);
  });

  it("ends sessions on logout and on expiry", () => {
    const first = sessions.login("ada", "correct horse");
    sessions.logout(first);
    expect(() => sessions.verify(first)).toThrow(/invalid/);
    const second = sessions.login("ada", "correct horse");
    now += 60_000;
    expect(() => sessions.verify(second)).toThrow(/expired/);
  });

  it("enforces registration rules", () => {
    expect(() => {
      sessions.register("ada", "another password");
    }).toThrow(/taken/);
    expect(() => {
      sessions.register("Ada L", "long enough");
    }).toThrow(/user ids/);
    expect(() => {
      sessions.register("bob", "short");
    }).toThrow(/at least/);
  });
});
