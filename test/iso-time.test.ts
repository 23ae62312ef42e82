// isoTime (src/iso-time.ts): the string toISOString() gives, without Date's formatting.
import test from 'ava';
import { isoTime } from '../src/iso-time.js';

test('isoTime is toISOString() for times from year 0 to 9999', (t) => {
  const fixed = [0, -1, 1, 999, -1.5, 1.5, -86_400_000.25, 86_399_999, 86_400_000, -86_400_001, 951_782_400_000, 951_868_799_999, 4_107_542_399_999, 253_402_300_799_999, -62_167_219_200_000, Date.now()];
  // Spread over the range with a fixed generator (a failure repeats), leap days included.
  let x = 0x2545f491;
  const spread = Array.from({ length: 20_000 }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return Math.floor(((x >>> 0) / 2 ** 32) * (253_402_300_799_999 + 62_167_219_200_000)) - 62_167_219_200_000;
  });
  for (const ms of [...fixed, ...spread]) t.is(isoTime(ms), new Date(ms).toISOString(), String(ms));
});

test('outside years 0 to 9999 it is Date\'s own extended form; a non-time is refused', (t) => {
  for (const ms of [-62_167_219_200_001, 253_402_300_800_000, 8.64e15]) t.is(isoTime(ms), new Date(ms).toISOString());
  t.throws(() => isoTime(Number.NaN), { instanceOf: RangeError });
});
