export { AuthError, SessionManager, type SessionOptions } from "./auth/session.js";
export {
  BookingConflictError,
  BookingService,
  type Booking,
  type BookingRequest,
} from "./bookings.js";
export { bookedMinutes, isFree, sortedByStart } from "./calendar.js";
export { priceCents } from "./pricing.js";
export { RoomDirectory, UnknownRoomError, type Room } from "./rooms.js";
export { addMinutes, durationMinutes, interval, type Interval } from "./time.js";
