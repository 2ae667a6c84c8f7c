/** Views over busy time: is a room free, and what does its day look like. */

import type { Interval } from "./time.js";

/** True when `wanted` overlaps none of `busy`; touching ends do not count as overlap. */
export function isFree(busy: readonly Interval[], wanted: Interval): boolean {
  return busy.every(
    (taken) =>
      taken.end.getTime() <= wanted.start.getTime() ||
      wanted.end.getTime() <= taken.start.getTime(),
  );
}

export function sortedByStart(busy: readonly Interval[]): Interval[] {
  return [...busy].sort((a, b) => a.start.getTime() - b.start.getTime());
}

/** Minutes of `window` that are booked, for utilisation reports (assumes no double bookings). */
export function bookedMinutes(busy: readonly Interval[], window: Interval): number {
  let total = 0;
  for (const taken of busy) {
    const start = Math.max(taken.start.getTime(), window.start.getTime());
    const end = Math.min(taken.end.getTime(), window.end.getTime());
    total += Math.max(0, end - start);
  }
  return total / 60_000;
}
