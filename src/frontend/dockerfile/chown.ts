// COPY/ADD --chown: the one grammar, as BuildKit reads it (llb.WithUser): USER[:GROUP], split
// at the first colon, each part a decimal id (an optional + sign, as Go's ParseInt) or a name. The names are looked up in the image
// when the step runs (sandbox/user.ts: resolveChown); here only the shape is decided.
// BuildKit's readings kept: an empty value sets no owner; an empty user (`:staff`) and an
// empty group (`app:`) are id 0; `root` is id 0 without a lookup.
import { InstructionError } from './flags.js';

/** One side of an owner: a numeric id, or a name to look up in /etc/passwd or /etc/group. */
export type OwnerRef = { id: number; name?: undefined } | { name: string; id?: undefined };

/** A parsed --chown value. */
export interface Chown {
  /** As written (after variable expansion): the history text and cache material use it. */
  text: string;
  /**
   * Absent when the value is empty (`--chown=`, or `--chown=$UNSET` once expanded): no owner,
   * as in BuildKit. (A value holding variables has only `text` until expand.ts parses it.)
   */
  user?: OwnerRef;
  /** Absent: a numeric user's id, a named user's primary group from /etc/passwd. */
  group?: OwnerRef;
}

/** The largest id (Go's ParseInt(s, 10, 32), which BuildKit uses; 2³¹−1). */
const MAX_ID = 2 ** 31 - 1;

/** Parses a --chown value; throws InstructionError on one no image could resolve. */
export function parseChown(text: string): Chown {
  if (text === '') return { text };
  const colon = text.indexOf(':');
  const user = ownerRef(colon < 0 ? text : text.slice(0, colon), 'uid', text);
  if (colon < 0) return { text, user };
  const groupPart = text.slice(colon + 1);
  // BuildKit would look `b:c` up as a group name, which no /etc/group line can hold.
  if (groupPart.includes(':')) throw new InstructionError(`invalid --chown=${text}: expected USER[:GROUP], each a name or a numeric id`);
  return { text, user, group: ownerRef(groupPart, 'gid', text) };
}

function ownerRef(part: string, what: 'uid' | 'gid', text: string): OwnerRef {
  // BuildKit marshals an empty name as id 0, and reads `root` as 0 (llb parseUID).
  if (part === '' || part === 'root') return { id: 0 };
  if (!/^[+-]?[0-9]+$/.test(part)) return { name: part };
  const id = Number(part) + 0; // -0 is 0
  // (BuildKit would wrap a negative id to 2³²−N, and look a larger one up as a name.)
  if (id < 0 || id > MAX_ID) throw new InstructionError(`invalid --chown=${text}: ${what} ${part} is out of range (at most ${MAX_ID})`);
  return { id };
}
