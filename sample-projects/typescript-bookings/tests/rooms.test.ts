import { describe, expect, it } from "vitest";

import { UnknownRoomError } from "../src/rooms.js";
import { FJORD, directory } from "./fixtures.js";

describe("RoomDirectory", () => {
  it("finds the smallest rooms that fit first", () => {
    expect(directory().withCapacity(5).map((room) => room.id)).toEqual(["delta", "tundra"]);
  });

  it("rejects duplicates, bad capacities and unknown ids", () => {
    const rooms = directory();
    expect(() => {
      rooms.add(FJORD);
    }).toThrow(/already exists/);
    expect(() => {
      rooms.add({ id: "broom", name: "Broom cupboard", capacity: 0, hourlyRateCents: 0 });
    }).toThrow(RangeError);
    expect(() => rooms.get("atlantis")).toThrow(UnknownRoomError);
  });
});
