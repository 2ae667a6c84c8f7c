import { describe, expect, it } from "vitest";

import { bookedMinutes, isFree } from "../src/calendar.js";
import { interval } from "../src/time.js";
import { at } from "./fixtures.js";

const busy = [interval(at("09:00"), at("10:00")), interval(at("13:00"), at("14:00"))];

describe("isFree", () => {
  it("refuses any overlap", () => {
    expect(isFree(busy, interval(at("09:30"), at("09:45")))).toBe(false);
    expect(isFree(busy, interval(at("08:00"), at("15:00")))).toBe(false);
    expect(isFree(busy, interval(at("11:00"), at("12:00")))).toBe(true);
  });

  it("lets a meeting start the minute another ends", () => {
    expect(isFree(busy, interval(at("10:00"), at("13:00")))).toBe(true);
  });
});

describe("bookedMinutes", () => {
  it("counts only the part inside the window", () => {
    expect(bookedMinutes(busy, interval(at("09:30"), at("13:30")))).toBe(60);
  });
});
