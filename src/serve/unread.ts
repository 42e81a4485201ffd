import type { ServerResponse } from 'node:http';
import { grouped } from '../input/counts.js';

/*
 * The answers `rnn serve` has ended but their clients have not yet taken: each client dropped once the
 * time limit has passed since its answer ended, the earliest ended dropped first while the answers in
 * flight hold more than the byte cap, and the drops said on stderr at most once a minute.
 */

/**
 * Most bytes the answers in flight may hold that their clients have not yet taken: without it, clients that ask
 * for large answers and never read them would hold --max-connections of them (at 5 MB an activations answer, 2.5 GB).
 */
const UNREAD_MAX_BYTES = 256 * 2 ** 20;

/** The least time between two lines that say the cap on answers not taken dropped clients: a flood of drops is counted, not logged each. */
const DROPPED_LINE_MS = 60_000;

/** RnnServer's answers not yet taken (the file comment), told of each as its route ends it and as it settles. */
export class UnreadAnswers {
  /** The answers ended but not yet written out whole, the earliest ended first, each with the timer that drops its client. */
  private readonly unread = new Map<ServerResponse, NodeJS.Timeout>();
  /** The clients dropped by dropOver not yet said (sayDropped), and the most bytes held at a drop among them. */
  private dropped = { clients: 0, held: 0 };
  /** While a line of dropped clients holds the next (sayDropped), the timer that says the drops counted meanwhile. */
  private droppedLine: NodeJS.Timeout | null = null;

  /**
   * `timeLimitMs`: how long a client has to take its answer once it has ended; `report` says a line on stderr; `cap`: the
   * most bytes the answers in flight may hold not yet taken (dropOver).
   */
  constructor(
    private readonly timeLimitMs: number,
    private readonly report: (line: string) => void,
    private readonly cap = UNREAD_MAX_BYTES,
  ) {}

  /**
   * `res`, ended by its route but not yet written out whole: its client is dropped once the time limit has passed, and
   * sooner where the answers `inFlight` (every answer not yet written out whole, `res` among them) hold too much (dropOver).
   */
  ended(res: ServerResponse, inFlight: Iterable<ServerResponse>): void {
    this.unread.set(res, setTimeout(() => res.destroy(), this.timeLimitMs));
    this.dropOver(res, inFlight);
  }

  /** `res` written out whole, or its connection closed: nothing of it is left to drop. */
  settled(res: ServerResponse): void {
    clearTimeout(this.unread.get(res));
    this.unread.delete(res);
  }

  /** Once every answer has settled: says the drops not yet said, and holds no timer. */
  close(): void {
    clearTimeout(this.droppedLine ?? undefined);
    this.sayDropped(false);
  }

  /**
   * While the answers `inFlight` hold more bytes not yet taken by their clients than the cap allows, the client
   * of the answer that ended earliest is dropped, and its bytes freed: it has had the longest to read, where one that
   * reads takes its answer as it is written. `newest`, the answer just ended, is kept, so one answer larger than the
   * cap is still served; the bytes held stay under the cap and one answer, each capped by the request caps.
   */
  private dropOver(newest: ServerResponse, inFlight: Iterable<ServerResponse>): void {
    let held = 0;
    for (const res of inFlight) held += res.writableLength;
    for (const res of this.unread.keys()) {
      if (held <= this.cap || res === newest) return;
      this.dropped.clients++;
      this.dropped.held = Math.max(this.dropped.held, held);
      if (this.droppedLine === null) this.sayDropped(true);
      held -= res.writableLength;
      res.destroy();
    }
  }

  /**
   * Says on stderr the clients dropped by dropOver since the last such line, if any; then, where it said some and
   * `again`, holds the next such line for DROPPED_LINE_MS, counting the drops meanwhile.
   */
  private sayDropped(again: boolean): void {
    this.droppedLine = null;
    const { clients, held } = this.dropped;
    if (clients === 0) return;
    const who = clients === 1 ? 'a client that did not read its answer' : `${grouped(clients)} clients that did not read their answers`;
    this.report(`dropped ${who}: the answers not taken held ${clients === 1 ? '' : 'up to '}${grouped(held)} bytes, ` +
      `over the cap of ${grouped(this.cap)} (at most one such line a minute)`);
    this.dropped = { clients: 0, held: 0 };
    if (again) this.droppedLine = setTimeout(() => this.sayDropped(true), DROPPED_LINE_MS).unref();
  }
}
