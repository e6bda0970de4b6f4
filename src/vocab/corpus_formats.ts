/**
 * Plain text out of the general-English corpus packages' own file formats (src/vocab/corpora.ts
 * finds the packages): the Brown corpus's tagged `word/tag` files, WordNet's synset data files and
 * Project Gutenberg's text files. Pure functions of the file contents.
 */

/** Brown categories left out of the vanilla corpus: `learned` holds computational-linguistics
 * papers (J32, a 1961 machine-translation paper; J33-J35 on grammar and lexicostatistics), which is
 * ACL-ARC's own genre, and `editorial` is political opinion, hyperpartisan's. */
export const BROWN_EXCLUDED: readonly string[] = ["learned", "editorial"];

/** `cats.txt` ("ca01 news" per line) → file name → category. */
export function parseBrownCategories(text: string): Map<string, string> {
  const cats = new Map<string, string>();
  for (const line of text.split("\n")) {
    const [file, cat] = line.trim().split(/\s+/);
    if (file && cat) cats.set(file, cat);
  }
  return cats;
}

/** Closes onto the word before it: no space in front. */
const ATTACH_LEFT = /^(?:[.,;:?!)\]}%]|'s|'S|'|n't|'re|'ve|'ll|'d|'m)$/;
/** Opens onto the word after it: no space behind. */
const ATTACH_RIGHT = /^[(\[{$]$/;

/**
 * One Brown file (`word/tag` tokens, a sentence per tab-indented line, paragraphs separated by
 * blank lines) → running text: tags dropped, `` and '' turned into ", punctuation joined back
 * onto its word; a sentence per line, paragraphs separated by a blank line.
 */
export function detokenizeBrown(text: string): string {
  return text.split(/\r?\n\s*\n/).map((para) =>
    para.split(/\r?\n/).filter((l) => l.trim() !== "").map((line) =>
      joinWords(
        line.trim().split(/\s+/).map((tok) => {
          const slash = tok.lastIndexOf("/");
          return slash > 0 ? tok.slice(0, slash) : tok;
        }),
      )
    ).join("\n")
  ).filter((p) => p !== "").join("\n\n");
}

function joinWords(words: string[]): string {
  let out = "";
  let glue = true; // no space before the next word
  let prev = "";
  for (const w of words) {
    // The corpus doubles some semicolons at sentence ends (";/. ;/."): keep one.
    if (w === ";" && prev === ";") continue;
    prev = w;
    if (w === "``") {
      out += (glue ? "" : " ") + '"';
      glue = true;
    } else if (w === "''") {
      out += '"';
      glue = false;
    } else {
      out += (glue || ATTACH_LEFT.test(w) ? "" : " ") + w;
      glue = ATTACH_RIGHT.test(w);
    }
  }
  return out;
}

/**
 * WordNet's data.{noun,verb,adj,adv} (a synset per line after the licence's lines, which begin
 * with two spaces) → one text per synset: "lemma, lemma: gloss." The gloss after `|` holds the
 * definition and its quoted usage examples.
 */
export function wordnetGlosses(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith(" ") || !line.includes(" | ")) continue;
    const [head, gloss] = [line.slice(0, line.indexOf(" | ")), line.slice(line.indexOf(" | ") + 3)];
    const fields = head.split(" ");
    const count = parseInt(fields[3], 16);
    const lemmas: string[] = [];
    for (let i = 0; i < count && 4 + 2 * i < fields.length; i++) {
      lemmas.push(fields[4 + 2 * i].replace(/\(.*\)$/, "").replace(/_/g, " "));
    }
    let g = gloss.trim();
    if (!/[.!?"]$/.test(g)) g += ".";
    out.push(`${lemmas.join(", ")}: ${g}`);
  }
  return out;
}

/**
 * A Gutenberg text file's bytes → its text: UTF-8, or ISO-8859-1 where the bytes are not UTF-8
 * (shakespeare-caesar.txt); CRLF made LF; the package's "[Title by Author Year]" first line
 * dropped.
 */
export function gutenbergText(bytes: Uint8Array): string {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    text = new TextDecoder("iso-8859-1").decode(bytes);
  }
  text = text.replace(/\r\n?/g, "\n");
  return text.replace(/^\[[^\]\n]*\][ \t]*\n/, "");
}
