// Where `trustgate serve` writes its log lines: a pino destination that batches lines in memory
// and hands them to the file descriptor in large writes off the event loop.
//
// Why not pino.destination (sonic-boom): with buffering on, each write measures the byte length
// of the whole pending buffer again (a growing concatenated string, flattened every time), which
// cost more per decision line than writing it; without buffering, a write per line cost as much
// as a review (bench/RESULTS.md). Here a line is one array push; the bytes are counted once per
// batch.
import { write as fsWrite, writeSync } from 'node:fs';

export interface LogBufferOptions {
  /** Start a write once this many characters are pending (a timer flushes smaller batches). */
  readonly flushChars: number;
  /**
   * Never hold more than this many characters: when the reader of stdout stops reading, lines
   * are dropped (and counted in a line written later) rather than taking all memory or
   * blocking admission.
   */
  readonly maxChars: number;
}

const DEFAULTS: LogBufferOptions = { flushChars: 64 * 1024, maxChars: 16 * 1024 * 1024 };
/** How long to wait before trying again when the descriptor is full (EAGAIN). */
const RETRY_MS = 10;

export class LogBuffer {
  private pending: string[] = [];
  private pendingChars = 0;
  private dropped = 0;
  private droppedEver = 0;
  private writing: Promise<void> | undefined;

  constructor(
    private readonly fd: number,
    private readonly options: LogBufferOptions = DEFAULTS,
    private readonly now: () => number = Date.now,
  ) {}

  /** pino's destination interface: one serialised line, newline included. */
  write(line: string): boolean {
    if (this.pendingChars + line.length > this.options.maxChars) {
      this.dropped++;
      this.droppedEver++;
      return false;
    }
    this.pending.push(line);
    this.pendingChars += line.length;
    if (this.pendingChars >= this.options.flushChars) this.flush();
    return true;
  }

  /** Lines dropped since start (trustgate_log_lines_dropped_total). */
  get droppedTotal(): number {
    return this.droppedEver;
  }

  /** Starts writing what is pending; a write already under way picks it up when it ends. */
  flush(): void {
    if (this.writing !== undefined) return;
    const batch = this.take();
    if (batch.length === 0) return;
    this.writing = this.writeAsync(batch).then(() => {
      this.writing = undefined;
      if (this.pendingChars >= this.options.flushChars) this.flush();
    });
  }

  /** Waits for the write under way, then writes everything left before returning. */
  async close(): Promise<void> {
    while (this.writing !== undefined) await this.writing;
    this.flushSync();
  }

  /**
   * Writes everything pending now (process exit). A batch already handed to an asynchronous
   * write may land after it: use close() where there is time to wait.
   */
  flushSync(): void {
    const batch = this.take();
    let offset = 0;
    const deadline = this.now() + 2000;
    while (offset < batch.length) {
      try {
        offset += writeSync(this.fd, batch, offset);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN' || this.now() > deadline) return;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
      }
    }
  }

  private take(): Buffer {
    if (this.dropped > 0) {
      const note = `{"level":40,"time":${this.now()},"service":"trustgate","msg":"${this.dropped} log lines dropped: the reader of the log did not keep up"}\n`;
      this.pending.push(note);
      this.dropped = 0;
    }
    const text = this.pending.join('');
    this.pending = [];
    this.pendingChars = 0;
    return Buffer.from(text, 'utf8');
  }

  private async writeAsync(batch: Buffer): Promise<void> {
    let offset = 0;
    while (offset < batch.length) {
      try {
        offset += await new Promise<number>((resolve, reject) => {
          fsWrite(this.fd, batch, offset, batch.length - offset, null, (error, written) => (error ? reject(error) : resolve(written)));
        });
      } catch (error) {
        // A full pipe: wait for the reader. Anything else (closed stdout): nothing to do but drop.
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') return;
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }
}
