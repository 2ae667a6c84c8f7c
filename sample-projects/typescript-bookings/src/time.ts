/**
 * Time intervals. Every booking is a half-open interval [start, end): it includes its first
 * minute and not its last, so a meeting may start the minute the previous one ends.
 * All arithmetic is on epoch milliseconds, never on local wall-clock fields, so results do not
 * depend on the machine's time zone.
 */

export interface Interval {
  readonly start: Date;
  readonly end: Date;
}

const MINUTE_MS = 60_000;

/** A checked interval: both ends valid dates, the end strictly after the start. */
export function interval(start: Date, end: Date): Interval {
  if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())) {
    throw new RangeError("interval needs two valid dates");
  }
  if (end.getTime() <= start.getTime()) {
    throw new RangeError(
      `interval must end after it starts: ${start.toISOString()} to ${end.toISOString()}`,
    );
  }
  return { start, end };
}

export function addMinutes(date: Date, minutes: number): Date {
  return new Date(date.getTime() + minutes * MINUTE_MS);
}

export function durationMinutes(span: Interval): number {
  return (span.end.getTime() - span.start.getTime()) / MINUTE_MS;
}
