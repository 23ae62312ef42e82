// At most N jobs at once, for work found as it goes (a tree walk); for a list known up front
// see mapLimit (src/registry/session.ts).
export class Limiter {
  private active = 0;
  // A queue read from `head`: Array.shift() of 100,000 waiting jobs moved the whole array each
  // time (seconds for a cold COPY of that many small files).
  private waiting: (() => void)[] = [];
  private head = 0;

  constructor(private readonly max: number) {}

  /** Runs `job` once fewer than `max` jobs run; settles as it does. */
  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await job();
    } finally {
      this.active--;
      this.next();
    }
  }

  private next(): void {
    if (this.head >= this.waiting.length) return;
    const wake = this.waiting[this.head++];
    if (this.head === this.waiting.length) {
      this.waiting = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.waiting.length) {
      this.waiting = this.waiting.slice(this.head);
      this.head = 0;
    }
    wake();
  }
}
