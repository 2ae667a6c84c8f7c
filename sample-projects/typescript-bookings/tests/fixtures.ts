import { RoomDirectory, type Room } from "../src/rooms.js";

/** A time on the demo's reference day, in UTC so results never depend on the machine's zone. */
export const at = (hhmm: string): Date => new Date(`2025-03-03T${hhmm}:00Z`);

export const FJORD: Room = { id: "fjord", name: "Fjord", capacity: 4, hourlyRateCents: 2000 };
export const TUNDRA: Room = { id: "tundra", name: "Tundra", capacity: 10, hourlyRateCents: 4500 };
export const DELTA: Room = { id: "delta", name: "Delta", capacity: 6, hourlyRateCents: 3000 };

export const directory = (): RoomDirectory => new RoomDirectory([FJORD, TUNDRA, DELTA]);
