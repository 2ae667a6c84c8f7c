/**
 * What a booking costs: every started half hour is billed at the room's hourly rate, and
 * members get a discount. Rounding happens once, at the end, to whole cents.
 */

import type { Room } from "./rooms.js";
import { durationMinutes, type Interval } from "./time.js";

export const BILLING_STEP_MINUTES = 30;
export const MEMBER_DISCOUNT = 0.15;

export function priceCents(room: Room, when: Interval, member = false): number {
  const steps = Math.ceil(durationMinutes(when) / BILLING_STEP_MINUTES);
  const full = (steps * BILLING_STEP_MINUTES * room.hourlyRateCents) / 60;
  return Math.round(member ? full * (1 - MEMBER_DISCOUNT) : full);
}
