/**
 * The texts of a masked-LM run: corpus files or built-in corpora, packed into texts of at most
 * max_length tokens (src/pretrain/pack.ts) and tokenized.
 */
import { UserError } from "../errors.ts";
import type { L3Tokenizer } from "../io/tokenizer.ts";
import { encodeRows, type Example } from "../data/examples.ts";
import { BUILTIN_CORPORA, type BuiltinCorpus, loadBuiltinCorpus } from "../vocab/corpora.ts";
import { packTexts } from "./pack.ts";

/** Documents from files or built-in corpus names. */
export async function readCorpus(specs: string[]): Promise<string[]> {
  const docs: string[] = [];
  for (const spec of specs) {
    const st = await Deno.stat(spec).catch(() => null);
    if (!st) {
      const name = spec.replace(/^builtin:/, "");
      if ((BUILTIN_CORPORA as readonly string[]).includes(name)) {
        docs.push(...await loadBuiltinCorpus(name as BuiltinCorpus));
        continue;
      }
      throw new UserError(
        `corpus '${spec}' is neither a file nor a built-in corpus (${
          BUILTIN_CORPORA.map((n) => `builtin:${n}`).join(", ")
        })`,
      );
    }
    const text = await Deno.readTextFile(spec);
    if (spec.endsWith(".jsonl")) {
      text.split("\n").forEach((line, i) => {
        if (!line.trim()) return;
        let o;
        try {
          o = JSON.parse(line);
        } catch {
          throw new UserError(`${spec}:${i + 1}: not valid JSON`);
        }
        if (typeof o?.text !== "string") {
          throw new UserError(`${spec}:${i + 1}: no string "text" field`);
        }
        docs.push(o.text);
      });
    } else docs.push(text);
  }
  return docs;
}

export async function corpusExamples(
  tok: L3Tokenizer,
  corpus: string[],
  maxLength: number,
): Promise<Example[]> {
  const docs = await readCorpus(corpus);
  const texts = packTexts(docs, tok, maxLength - tok.addedSingle);
  if (!texts.length) throw new UserError("the corpus holds no text");
  if (texts.length < 2) {
    // One text would be held out and leave nothing to train on.
    throw new UserError(
      `the corpus packs into ${texts.length} text of at most ${maxLength} tokens; training ` +
        `needs at least 2 (some are held out): add text, or sentences ending in . ! or ?`,
    );
  }
  return encodeRows(tok, texts.map((text, row) => ({ row, line: row + 1, text })), [], maxLength);
}
