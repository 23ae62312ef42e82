// Owner records (src/store/owner.ts): a zombie is not a live owner. A SIGKILLed build's
// processes are reparented to PID 1, which may reap them late; until then their /proc entries
// stay, and taking them for live owners kept the build's temp dirs (and locks) around.
import test from 'ava';
import { spawn } from 'node:child_process';
import { ownerAlive, pidRunning, currentOwner } from '../../src/store/owner.js';

test('a zombie process is neither running nor a live owner; this process is both', async (t) => {
  // The shell starts a short child, then execs into a process that never reaps it.
  const parent = spawn('sh', ['-c', 'sleep 0.1 & echo $!; exec sleep 3'], { stdio: ['ignore', 'pipe', 'ignore'] });
  t.teardown(() => parent.kill('SIGKILL'));
  const zombie = await new Promise<number>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  await new Promise((r) => setTimeout(r, 600));
  t.false(pidRunning(zombie), `pid ${zombie} is a zombie by now`);
  t.false(ownerAlive({ pid: zombie, start: '12345', since: 0 }));
  t.false(ownerAlive({ pid: zombie, start: '', since: 0 }));
  t.true(pidRunning(process.pid));
  t.true(ownerAlive(currentOwner()));
  t.true(pidRunning(parent.pid as number));
});
