// Limiter (src/limiter.ts): at most N jobs at once, the rest started in the order they came,
// however many wait (a cold COPY of 100,000 small files queues that many hashes; the queue's
// cost is measured in docs/decisions.md, not here).
import test from 'ava';
import { Limiter } from '../../src/limiter.js';

test('runs at most N at once, in arrival order, and settles each job as it settles', async (t) => {
  const limiter = new Limiter(3);
  let running = 0;
  let most = 0;
  const started: number[] = [];
  const jobs = Array.from({ length: 5000 }, (_, i) =>
    limiter.run(async () => {
      started.push(i);
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setImmediate(resolve));
      running--;
      if (i === 7) throw new Error('seven');
      return i;
    }),
  );
  const results = await Promise.allSettled(jobs);
  t.is(most, 3);
  t.deepEqual(started, Array.from({ length: 5000 }, (_, i) => i));
  t.is(results.filter((r) => r.status === 'fulfilled').length, 4999);
  t.is((results[7] as PromiseRejectedResult).reason.message, 'seven');
  t.is((results[4999] as PromiseFulfilledResult<number>).value, 4999);
});
