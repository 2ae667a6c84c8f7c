/**
 * Booking rooms: one room, one interval, no double bookings. The price is fixed when the
 * booking is made, so a later rate change does not alter what someone agreed to pay.
 */

import { bookedMinutes } from "./calendar.js";
import { priceCents } from "./pricing.js";
import type { RoomDirectory } from "./rooms.js";
import { durationMinutes, interval, type Interval } from "./time.js";

export interface Booking {
  readonly id: string;
  readonly roomId: string;
  readonly userId: string;
  readonly interval: Interval;
  readonly priceCents: number;
}

export interface BookingRequest {
  readonly roomId: string;
  readonly userId: string;
  readonly start: Date;
  readonly end: Date;
  readonly member?: boolean;
}

export class BookingConflictError extends Error {
  override name = "BookingConflictError";
  readonly existing: Booking;

  constructor(existing: Booking) {
    super(`room ${existing.roomId} is already booked (${existing.id})`);
    this.existing = existing;
  }
}

export class BookingService {
  readonly #rooms: RoomDirectory;
  readonly #bookings: Booking[] = [];
  #nextId = 1;

  constructor(rooms: RoomDirectory) {
    this.#rooms = rooms;
  }

  book(request: BookingRequest): Booking {
    const room = this.#rooms.get(request.roomId);
    const wanted = interval(request.start, request.end);
    const clash = this.#bookings.find(
      (b) =>
        b.roomId === room.id &&
        b.interval.start.getTime() < wanted.end.getTime() &&
        wanted.start.getTime() < b.interval.end.getTime(),
    );
    if (clash !== undefined) {
      throw new BookingConflictError(clash);
    }
    const booking: Booking = {
      id: `B${String(this.#nextId++)}`,
      roomId: room.id,
      userId: request.userId,
      interval: wanted,
      priceCents: priceCents(room, wanted, request.member ?? false),
    };
    this.#bookings.push(booking);
    return booking;
  }

  /** Only the person who made a booking may cancel it. */
  cancel(bookingId: string, userId: string): void {
    const index = this.#bookings.findIndex((b) => b.id === bookingId);
    const booking = this.#bookings[index];
    if (booking === undefined) {
      throw new Error(`no booking ${bookingId}`);
    }
    if (booking.userId !== userId) {
      throw new Error(`booking ${bookingId} belongs to someone else`);
    }
    this.#bookings.splice(index, 1);
  }

  /** The room's bookings in time order. */
  schedule(roomId: string): Booking[] {
    return this.#bookings
      .filter((b) => b.roomId === roomId)
      .sort((a, b) => a.interval.start.getTime() - b.interval.start.getTime());
  }

  /** The share of `window` (0 to 1) during which the room is booked. */
  utilisation(roomId: string, window: Interval): number {
    const busy = this.schedule(roomId).map((b) => b.interval);
    return bookedMinutes(busy, window) / durationMinutes(window);
  }
}
