/**
 * UTF-8 decoding of a whole data file, with positions for what cannot be decoded. A leading BOM
 * is dropped. Line numbers count '\n' bytes (1-based); byte offsets count from the start of the
 * file, BOM included, so both match what `sed -n Np` and `xxd -s N` show.
 */

export interface BadByte {
  /** 1-based line of the first byte of the ill-formed sequence. */
  line: number;
  /** 0-based byte offset of that byte in the file. */
  offset: number;
}

export interface Decoded {
  /** The text, BOM removed; ill-formed sequences become U+FFFD (only when `bad` is non-empty). */
  text: string;
  /** Ill-formed sequences, in file order (empty for a valid file). */
  bad: BadByte[];
  bom: boolean;
}

const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const lenient = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

/**
 * Decodes `bytes` as UTF-8. A valid file takes one fatal decode; otherwise the ill-formed
 * sequences are located (the caller decides whether they are an error or skipped rows) and the
 * text is decoded with replacement characters. U+FFFD never swallows a '\n', so line numbers of
 * the text and of the bytes agree.
 */
export function decodeUtf8(bytes: Uint8Array): Decoded {
  const bom = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  const body = bom ? bytes.subarray(3) : bytes;
  try {
    return { text: strict.decode(body), bad: [], bom };
  } catch {
    return { text: lenient.decode(body), bad: findIllFormed(bytes, bom ? 3 : 0), bom };
  }
}

/**
 * Start offsets (and lines) of ill-formed UTF-8 sequences from `start` on, per the Unicode
 * well-formed byte sequence table (no overlongs, no surrogates, nothing above U+10FFFF).
 */
export function findIllFormed(bytes: Uint8Array, start = 0): BadByte[] {
  const bad: BadByte[] = [];
  let line = 1;
  for (let i = 0; i < start; i++) if (bytes[i] === 0x0a) line++;
  let i = start;
  const cont = (k: number, lo = 0x80, hi = 0xbf) =>
    k < bytes.length && bytes[k] >= lo && bytes[k] <= hi;
  while (i < bytes.length) {
    const b = bytes[i];
    let len = 0;
    if (b < 0x80) len = 1;
    else if (b >= 0xc2 && b <= 0xdf) len = cont(i + 1) ? 2 : 0;
    else if (b === 0xe0) len = cont(i + 1, 0xa0) && cont(i + 2) ? 3 : 0;
    else if (b === 0xed) len = cont(i + 1, 0x80, 0x9f) && cont(i + 2) ? 3 : 0;
    else if (b >= 0xe1 && b <= 0xef) len = cont(i + 1) && cont(i + 2) ? 3 : 0;
    else if (b === 0xf0) len = cont(i + 1, 0x90) && cont(i + 2) && cont(i + 3) ? 4 : 0;
    else if (b === 0xf4) len = cont(i + 1, 0x80, 0x8f) && cont(i + 2) && cont(i + 3) ? 4 : 0;
    else if (b >= 0xf1 && b <= 0xf3) len = cont(i + 1) && cont(i + 2) && cont(i + 3) ? 4 : 0;
    if (len === 0) {
      bad.push({ line, offset: i });
      i++;
      // Skip the continuation bytes of the same broken sequence: one report per sequence.
      while (i < bytes.length && bytes[i] >= 0x80 && bytes[i] <= 0xbf) i++;
      continue;
    }
    if (b === 0x0a) line++;
    i += len;
  }
  return bad;
}
