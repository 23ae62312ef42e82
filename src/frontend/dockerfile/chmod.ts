// COPY/ADD --chmod: the one grammar, as BuildKit reads it. An octal mode sets the bits
// exactly; anything else is chmod(1)'s symbolic grammar with BSD setmode(3) semantics
// (BuildKit uses github.com/tonistiigi/dchapes-mode, a Go port of BSD's setmode.c, with
// umask 0): `go-w`, `u=rw,g=r,o=r`, `a+X`, `u+x-w`, `g=u`, `=rw,+X`.
import { InstructionError } from './flags.js';

/** One setmode(3) command: set, clear or conditionally set bits, or copy a class's bits. */
export interface ModeOp {
  cmd: '+' | '-' | 'X' | 'u' | 'g' | 'o';
  bits: number;
  /** For u/g/o copies: which classes receive, and set/clear. */
  copy?: { to: { u: boolean; g: boolean; o: boolean }; set: boolean; clear: boolean };
}

/** A parsed --chmod value. */
export interface Chmod {
  /** As written (after variable expansion). */
  text: string;
  /** An octal value: the mode is set to exactly this (permission and special bits). */
  octal?: number;
  /** A symbolic value: setmode commands applied to each entry's own mode. */
  ops?: readonly ModeOp[];
}

const S_ISUID = 0o4000;
const S_ISGID = 0o2000;
const S_ISTXT = 0o1000;
const RWXU = 0o700;
const RWXG = 0o070;
const RWXO = 0o007;
const STANDARD = S_ISUID | S_ISGID | RWXU | RWXG | RWXO; // 0o6777
const R_ALL = 0o444;
const W_ALL = 0o222;
const X_ALL = 0o111;

/** Parses a --chmod value; throws InstructionError with BuildKit's message. */
export function parseChmod(text: string): Chmod {
  // BuildKit: a value that looks numeric must be octal and at most 07777.
  const nonOctal = (): InstructionError => new InstructionError(`invalid chmod parameter: '${text}'. it should be octal string and between 0 and 07777`);
  if (text === '') throw new InstructionError(`invalid chmod parameter: '': invalid syntax`);
  if (/^[0-9]/.test(text)) {
    if (!/^[0-7]+$/.test(text)) throw nonOctal();
    const value = parseInt(text, 8);
    if (value > 0o7777) throw nonOctal();
    return { text, octal: value };
  }
  const ops = parseSymbolic(text);
  if (!ops) throw new InstructionError(`invalid chmod parameter: '${text}': invalid syntax (an octal mode such as 0755, or a symbolic one such as u=rwx,go=rx)`);
  return { text, ops };
}

/** The mode an entry gets: `mode` is its own (source) mode, permission and special bits. */
export function applyChmod(chmod: Chmod, mode: number, isDir: boolean): number {
  if (chmod.octal !== undefined) return chmod.octal;
  const original = mode & 0o7777;
  let result = original;
  for (const op of chmod.ops ?? []) {
    switch (op.cmd) {
      case '+':
        result |= op.bits;
        break;
      case '-':
        result &= ~op.bits;
        break;
      case 'X':
        // setmode: decided on the mode before any change.
        if ((original & X_ALL) !== 0 || isDir) result |= op.bits;
        break;
      default: {
        const value = op.cmd === 'u' ? (result & RWXU) >> 6 : op.cmd === 'g' ? (result & RWXG) >> 3 : result & RWXO;
        const c = op.copy as NonNullable<ModeOp['copy']>;
        if (c.clear) {
          const clr = c.set ? RWXO : value;
          if (c.to.u) result &= ~((clr << 6) & op.bits);
          if (c.to.g) result &= ~((clr << 3) & op.bits);
          if (c.to.o) result &= ~(clr & op.bits);
        }
        if (c.set) {
          if (c.to.u) result |= (value << 6) & op.bits;
          if (c.to.g) result |= (value << 3) & op.bits;
          if (c.to.o) result |= value & op.bits;
        }
      }
    }
  }
  return result & 0o7777;
}

/** The mode of folders COPY creates on the way to its destination: an octal --chmod's, else 0755. */
export function createdDirMode(chmod: Chmod | undefined): number {
  return chmod?.octal !== undefined ? chmod.octal & 0o777 : 0o755;
}

/** setmode(3)'s parser (BSD setmode.c, umask 0); undefined on a syntax error. */
function parseSymbolic(input: string): ModeOp[] | undefined {
  const ops: ModeOp[] = [];
  const mask = 0o7777; // ~umask, with umask 0
  const add = (op: string, who: number, oparg: number): void => {
    if (op === '=') {
      ops.push({ cmd: '-', bits: who !== 0 ? who : STANDARD });
      op = '+';
    }
    if (op === '+' || op === '-' || op === 'X') {
      ops.push({ cmd: op, bits: who !== 0 ? who & oparg : mask & oparg });
      return;
    }
    // u, g or o: copy that class's bits to the classes in `who` (all when none)
    const to = who !== 0 ? { u: (who & 0o400) !== 0, g: (who & 0o040) !== 0, o: (who & 0o004) !== 0 } : { u: true, g: true, o: true };
    const how = String.fromCharCode(oparg);
    ops.push({ cmd: op as 'u' | 'g' | 'o', bits: who !== 0 ? ~0 : mask, copy: { to, set: how !== '-', clear: how !== '+' } });
  };
  let s = input;
  let equalOpDone = false;
  for (;;) {
    let who = 0;
    for (;;) {
      if (s.length === 0) return undefined;
      const c = s[0];
      if (c === 'a') who |= STANDARD;
      else if (c === 'u') who |= S_ISUID | RWXU;
      else if (c === 'g') who |= S_ISGID | RWXG;
      else if (c === 'o') who |= RWXO;
      else break;
      s = s.slice(1);
    }
    for (;;) {
      // one operator and its permissions; several may follow one another (`u+x-w`)
      const op = s[0];
      s = s.slice(1);
      if (op === '=') equalOpDone = false;
      else if (op !== '+' && op !== '-') return undefined;
      who &= ~S_ISTXT;
      let perm = 0;
      let permX = 0;
      for (;; s = s.slice(1)) {
        const b = s.length > 0 ? s[0] : '';
        if (b === 'r') perm |= R_ALL;
        else if (b === 's') {
          // only "other" bits: set-id ignored
          if (who === 0 || (who & ~RWXO) !== 0) perm |= S_ISUID | S_ISGID;
        } else if (b === 't') {
          if (who === 0 || (who & ~RWXO) !== 0) {
            who |= S_ISTXT;
            perm |= S_ISTXT;
          }
        } else if (b === 'w') perm |= W_ALL;
        else if (b === 'X') {
          if (op !== '-') permX = X_ALL;
          else perm |= X_ALL;
        } else if (b === 'x') perm |= X_ALL;
        else if (b === 'u' || b === 'g' || b === 'o') {
          if (perm !== 0) {
            add(op, who, perm);
            perm = 0;
          }
          if (op === '=') equalOpDone = true;
          if (permX !== 0) {
            add('X', who, permX);
            permX = 0;
          }
          add(b, who, op.charCodeAt(0));
        } else {
          if (perm !== 0 || (op === '=' && !equalOpDone)) {
            if (op === '=') equalOpDone = true;
            add(op, who, perm);
          }
          if (permX !== 0) add('X', who, permX);
          break;
        }
      }
      if (s === '' || s[0] === ',') break;
    }
    if (s === '') return ops;
    s = s.slice(1); // the comma
  }
}
