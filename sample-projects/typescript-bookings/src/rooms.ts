/** The rooms that can be booked, with their size and price. */

export interface Room {
  readonly id: string;
  readonly name: string;
  readonly capacity: number;
  readonly hourlyRateCents: number;
}

export class UnknownRoomError extends Error {
  override name = "UnknownRoomError";
  readonly roomId: string;

  constructor(roomId: string) {
    super(`unknown room ${roomId}`);
    this.roomId = roomId;
  }
}

export class RoomDirectory {
  readonly #rooms = new Map<string, Room>();

  constructor(rooms: Iterable<Room> = []) {
    for (const room of rooms) {
      this.add(room);
    }
  }

  add(room: Room): void {
    if (this.#rooms.has(room.id)) {
      throw new Error(`room ${room.id} already exists`);
    }
    if (!Number.isInteger(room.capacity) || room.capacity < 1) {
      throw new RangeError(`room ${room.id}: capacity must be a positive integer`);
    }
    if (!Number.isInteger(room.hourlyRateCents) || room.hourlyRateCents < 0) {
      throw new RangeError(`room ${room.id}: the hourly rate must be whole cents, not negative`);
    }
    this.#rooms.set(room.id, room);
  }

  get(roomId: string): Room {
    const room = this.#rooms.get(roomId);
    if (room === undefined) {
      throw new UnknownRoomError(roomId);
    }
    return room;
  }

  /** Rooms that seat `people`, smallest first, so the first one wastes the least space. */
  withCapacity(people: number): Room[] {
    return [...this.#rooms.values()]
      .filter((room) => room.capacity >= people)
      .sort((a, b) => a.capacity - b.capacity || a.name.localeCompare(b.name));
  }
}
