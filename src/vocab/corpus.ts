/**
 * Corpus files for vocabulary training: plain text (one document per line, or free text; only
 * the words matter, not where lines break) or JSON Lines (`.jsonl`/`.ndjson`) whose objects carry
 * the document in a string field `text`. A leading BOM is dropped; ill-formed UTF-8 becomes
 * U+FFFD, which the BERT normalizer deletes, and is reported back so the caller can warn.
 */
import { UserError } from "../errors.ts";
import { decodeUtf8 } from "../util/utf8.ts";

export interface CorpusFile {
  path: string;
  documents: string[];
  /** Ill-formed UTF-8 sequences replaced, and the 1-based line of the first. */
  badBytes: number;
  firstBadLine: number | null;
}

export function isJsonLines(path: string): boolean {
  return /\.(jsonl|ndjson)$/i.test(path);
}

export async function readCorpusFile(path: string): Promise<CorpusFile> {
  let bytes: Uint8Array;
  try {
    if ((await Deno.stat(path)).isDirectory) {
      throw new UserError(`${path}: is a directory, not a corpus file`);
    }
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof UserError) throw e;
    if (e instanceof Deno.errors.NotFound) throw new UserError(`${path}: corpus file not found`);
    throw new UserError(`${path}: cannot read the corpus (${e instanceof Error ? e.message : e})`);
  }
  const decoded = decodeUtf8(bytes);
  const lines = decoded.text.split("\n");
  const documents: string[] = [];
  if (isJsonLines(path)) {
    lines.forEach((line, i) => {
      if (line.trim().length === 0) return;
      let obj: unknown;
      try {
        obj = JSON.parse(line);
      } catch (e) {
        throw new UserError(
          `${path}:${i + 1}: not a JSON object (${e instanceof Error ? e.message : e}); ` +
            `a .jsonl corpus holds one object with a "text" string per line`,
        );
      }
      const text = typeof obj === "object" && obj !== null && !Array.isArray(obj)
        ? (obj as Record<string, unknown>).text
        : undefined;
      if (typeof text !== "string") {
        throw new UserError(
          `${path}:${i + 1}: no "text" string field; a .jsonl corpus holds one object with a ` +
            `"text" string per line`,
        );
      }
      documents.push(text);
    });
  } else {
    for (const line of lines) if (line.trim().length > 0) documents.push(line);
  }
  return {
    path,
    documents,
    badBytes: decoded.bad.length,
    firstBadLine: decoded.bad.length > 0 ? decoded.bad[0].line : null,
  };
}
