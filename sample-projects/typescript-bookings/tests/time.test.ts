import { describe, expect, it } from "vitest";

import { addMinutes, durationMinutes, interval } from "../src/time.js";
import { at } from "./fixtures.js";

describe("interval", () => {
  it("measures whole minutes", () => {
    expect(durationMinutes(interval(at("09:00"), at("10:30")))).toBe(90);
    expect(addMinutes(at("23:30"), 45).toISOString()).toBe("2025-03-04T00:15:00.000Z");
  });

  it("rejects empty, backwards and invalid intervals", () => {
    expect(() => interval(at("10:00"), at("10:00"))).toThrow(RangeError);
    expect(() => interval(at("11:00"), at("10:00"))).toThrow(/end after it starts/);
    expect(() => interval(new Date("nope"), at("10:00"))).toThrow(/valid dates/);
  });
});
