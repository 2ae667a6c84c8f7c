import { beforeEach, describe, expect, it } from "vitest";

import { BookingConflictError, BookingService } from "../src/bookings.js";
import { interval } from "../src/time.js";
import { at, directory } from "./fixtures.js";

let service: BookingService;

beforeEach(() => {
  service = new BookingService(directory());
  service.book({ roomId: "fjord", userId: "ada", start: at("09:00"), end: at("10:00") });
});

describe("BookingService", () => {
  it("prices a booking when it is made", () => {
    const booking = service.book({
      roomId: "delta",
      userId: "bob",
      start: at("09:00"),
      end: at("10:30"),
      member: true,
    });
    expect(booking).toMatchObject({ id: "B2", roomId: "delta", priceCents: 3825 });
  });

  it("refuses a double booking and names the one in the way", () => {
    const attempt = () =>
      service.book({ roomId: "fjord", userId: "bob", start: at("09:30"), end: at("11:00") });
    expect(attempt).toThrow(BookingConflictError);
    expect(attempt).toThrow(/B1/);
  });

  it("allows back-to-back bookings of the same room", () => {
    service.book({ roomId: "fjord", userId: "bob", start: at("10:00"), end: at("11:00") });
    service.book({ roomId: "fjord", userId: "cy", start: at("08:00"), end: at("09:00") });
    expect(service.schedule("fjord").map((b) => b.userId)).toEqual(["cy", "ada", "bob"]);
  });

  it("lets only the booker cancel", () => {
    expect(() => {
      service.cancel("B1", "bob");
    }).toThrow(/someone else/);
    service.cancel("B1", "ada");
    expect(service.schedule("fjord")).toEqual([]);
  });

  it("reports utilisation over a window", () => {
    expect(service.utilisation("fjord", interval(at("08:00"), at("12:00")))).toBe(0.25);
  });
});
