// The durable events this page has seen: drops repeats and remembers where to resume.
//
// A replay after a reconnect and live events may interleave (eventId 9 can arrive
// before a replayed 8), so "seen" is a set of ids, not just the highest one.

const KEEP = 5000;

export class EventCursor {
  constructor() {
    this.seen = new Set();
    this.lastEventId = null;
  }

  // True the first time an eventId is offered, false for a repeat.
  accept(eventId) {
    if (!Number.isInteger(eventId)) return true; // not a durable event: nothing to drop
    if (this.seen.has(eventId)) return false;
    this.seen.add(eventId);
    if (this.lastEventId === null || eventId > this.lastEventId) this.lastEventId = eventId;
    this.forgetOldest();
    return true;
  }

  // Sets keep insertion order, which is close to eventId order: drop the oldest.
  forgetOldest() {
    if (this.seen.size <= KEEP) return;
    const extra = this.seen.size - KEEP;
    let dropped = 0;
    for (const id of this.seen) {
      if (dropped++ >= extra) break;
      this.seen.delete(id);
    }
  }
}
