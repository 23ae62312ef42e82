// The image history's entries and times on object literals: no store, no build. Without an epoch
// a config-only step's entry takes the time of the first layer after it (or the one before it
// once one came), as BuildKit's exporter does, so a fully cached rebuild writes the same config.
import test from 'ava';
import { addConfigHistory, addHistory, createdTime, settleHistoryTimes } from '../../src/executor/history.js';
import type { StageState } from '../../src/executor/state.js';
import { Digest } from '../../src/image/digest.js';
import type { Layer } from '../../src/image/image.js';
import type { History } from '../../src/image/types.js';

function stage(): StageState {
  return { config: {}, layers: [], history: [], args: new Map(), declared: [], platform: { os: 'linux', architecture: 'amd64' }, baseLayers: 0, chainKey: 'base' };
}

const layer = (n: string): Layer => ({ digest: Digest.of(n), diffId: Digest.of(`d${n}`), size: n.length, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' });
const times = (h: History[]) => h.map((e) => e.created);

test('createdTime: the epoch in seconds as RFC 3339 without a fraction, else now', (t) => {
  t.is(createdTime(0), '1970-01-01T00:00:00Z');
  t.is(createdTime(1700000000), '2023-11-14T22:13:20Z');
  const before = Date.now();
  const now = Date.parse(createdTime(undefined));
  t.true(now >= before - 1 && now <= Date.now() + 1);
});

test('addHistory: a layer step adds its layer, a step without one is an empty_layer entry', (t) => {
  const s = stage();
  addHistory(s, layer('a'), 'RUN a # buildkit', 't1');
  addHistory(s, undefined, 'WORKDIR /x', 't2');
  t.is(s.layers.length, 1);
  t.deepEqual(s.history, [
    { created: 't1', created_by: 'RUN a # buildkit', comment: 'nbuild.dockerfile.v0' },
    { created: 't2', created_by: 'WORKDIR /x', comment: 'nbuild.dockerfile.v0', empty_layer: true },
  ]);
});

test('settleHistoryTimes: config-only entries take the next layer time, then the one before them', (t) => {
  const s = stage();
  s.history.push({ created: 'base', created_by: 'from the base image' });
  addConfigHistory(s, 'ENV a=1', 'now1', undefined);
  addConfigHistory(s, 'LABEL b=2', 'now2', undefined);
  addHistory(s, layer('a'), 'RUN a', 't1');
  addConfigHistory(s, 'ENV c=3', 'now3', undefined);
  addHistory(s, layer('b'), 'RUN b', 't2');
  addConfigHistory(s, 'CMD ["x"]', 'now4', undefined);
  t.is(settleHistoryTimes(s.history), 't2');
  t.deepEqual(times(s.history), ['base', 't1', 't1', 't1', 't1', 't2', 't2']);
});

test('settleHistoryTimes: with no layer at all the entries have no time; an epoch entry is kept', (t) => {
  const s = stage();
  addConfigHistory(s, 'ENV a=1', 'now1', undefined);
  addConfigHistory(s, 'CMD ["x"]', 'now2', undefined);
  t.is(settleHistoryTimes(s.history), undefined);
  t.deepEqual(times(s.history), [undefined, undefined]);

  const e = stage();
  addConfigHistory(e, 'ENV a=1', '2023-11-14T22:13:20Z', 1700000000); // an epoch: its own time
  addHistory(e, layer('a'), 'RUN a', 't1');
  t.is(settleHistoryTimes(e.history), 't1');
  t.deepEqual(times(e.history), ['2023-11-14T22:13:20Z', 't1']);
});

test('settleHistoryTimes: an entry without a time (a base image entry) is settled like a config-only one', (t) => {
  const history: History[] = [{ created_by: 'base, no time' }, { created: 't1', created_by: 'RUN a' }];
  t.is(settleHistoryTimes(history), 't1');
  t.deepEqual(times(history), ['t1', 't1']);
});
