import { describe, expect, it } from "vitest";

import { priceCents } from "../src/pricing.js";
import { interval } from "../src/time.js";
import { TUNDRA, at } from "./fixtures.js";

describe("priceCents", () => {
  it("bills every started half hour", () => {
    expect(priceCents(TUNDRA, interval(at("09:00"), at("10:00")))).toBe(4500);
    expect(priceCents(TUNDRA, interval(at("09:00"), at("10:01")))).toBe(6750);
  });

  it("gives members 15 % off, rounded to the cent", () => {
    expect(priceCents(TUNDRA, interval(at("09:00"), at("09:20")), true)).toBe(1913);
  });
});
