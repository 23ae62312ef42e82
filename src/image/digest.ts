// Digest: a validated content address. Only sha256 is produced or accepted; an
// unknown algorithm is refused rather than trusted (DESIGN rule 6).
import { NbuildError } from '../errors.js';
import { sha256Hex } from '../native/index.js';

const HEX64 = /^[0-9a-f]{64}$/;

export class Digest {
  readonly algorithm = 'sha256' as const;
  readonly hex: string;

  private constructor(hex: string) {
    this.hex = hex;
  }

  /** Parse `sha256:<64 lowercase hex>`; anything else is an INVALID_DIGEST error. */
  static parse(s: string): Digest {
    if (typeof s !== 'string' || !s.startsWith('sha256:') || !HEX64.test(s.slice(7))) {
      throw new NbuildError('INVALID_DIGEST', `invalid digest ${JSON.stringify(String(s).slice(0, 100))}: want sha256:<64 hex digits>`);
    }
    return new Digest(s.slice(7));
  }

  static fromHex(hex: string): Digest {
    if (!HEX64.test(hex)) throw new NbuildError('INVALID_DIGEST', `invalid sha256 hex ${JSON.stringify(hex.slice(0, 100))}`);
    return new Digest(hex);
  }

  /** The digest of some bytes held in memory (configs, manifests). */
  static of(data: Buffer | string): Digest {
    return new Digest(sha256Hex(data));
  }

  static isValid(s: string): boolean {
    return typeof s === 'string' && s.startsWith('sha256:') && HEX64.test(s.slice(7));
  }

  toString(): string {
    return `sha256:${this.hex}`;
  }

  toJSON(): string {
    return this.toString();
  }

  equals(o: Digest): boolean {
    return this.hex === o.hex;
  }

  /** The 12-hex short form used as an image id in listings. */
  short(): string {
    return this.hex.slice(0, 12);
  }
}
