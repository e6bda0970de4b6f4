/**
 * Dataset reading (SPEC §6): CSV (RFC 4180 quoting), TSV, JSONL, BOM, line numbers in every
 * error, skip-bad-rows, and the label checks training relies on. Most cases parse bytes in memory;
 * a few go through real files in a temporary directory; the shared datasets are read when present.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { UserError } from "../src/errors.ts";
import { closestName } from "../src/util/names.ts";
import {
  type Dataset,
  formatFromPath,
  parseDataset,
  readDataset,
  type ReadOptions,
} from "../src/data/read.ts";
import { checkLabelsSeen, checkTrainLabels, labelCounts, labelSet } from "../src/data/labels.ts";
import { parseDelimited } from "../src/data/delimited.ts";
import { findIllFormed } from "../src/util/utf8.ts";

const enc = new TextEncoder();

function parse(path: string, text: string | Uint8Array, opts: ReadOptions = {}): Dataset {
  return parseDataset(typeof text === "string" ? enc.encode(text) : text, path, opts);
}

/** Runs fn, expects a one-line UserError containing every part, returns its message. */
function userError(fn: () => unknown, parts: string[]): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof UserError, `expected a UserError, got ${(err as Error)?.stack}`);
    assert.ok(!err.message.includes("\n"), `message is not one line: ${err.message}`);
    for (const p of parts) {
      assert.ok(err.message.includes(p), `message lacks '${p}': ${err.message}`);
    }
    return err.message;
  }
  throw new Error(`expected a UserError containing ${JSON.stringify(parts)}, got none`);
}

const texts = (d: Dataset) => d.rows.map((r) => r.text);

Deno.test("CSV: quoted commas, doubled quotes, newlines in quotes, BOM, CRLF, line numbers", () => {
  const csv = "\uFEFFtext,label\r\n" +
    `plain,a\r\n` +
    `"with, comma",b\r\n` +
    `"say ""hi""",a\r\n` +
    `"two\nlines",b\r\n` +
    `"",a\r\n` +
    `after,b`;
  const d = parse("x.csv", csv, { labelColumn: "label" });
  assert.equal(d.format, "csv");
  assert.deepEqual(d.columns, ["text", "label"]); // BOM not part of the first column name
  assert.deepEqual(texts(d), ["plain", "with, comma", 'say "hi"', "two\nlines", "", "after"]);
  assert.deepEqual(d.rows.map((r) => r.label), ["a", "b", "a", "b", "a", "b"]);
  assert.deepEqual(d.rows.map((r) => r.line), [2, 3, 4, 5, 7, 8]);
  assert.deepEqual(d.rows.map((r) => r.row), [0, 1, 2, 3, 4, 5]);
  assert.equal(d.notes.emptyText, 1);
  assert.deepEqual(d.notes.emptyTextLines, [7]);
  assert.deepEqual(d.skipped, []);
});

Deno.test("CSV: a quote inside an unquoted field is text; blank lines are skipped", () => {
  const d = parse("x.csv", 'text,label\nhe said "no",a\n\n   ,b\n', { labelColumn: "label" });
  assert.deepEqual(texts(d), ['he said "no"', "   "]);
  assert.deepEqual(d.rows.map((r) => r.line), [2, 4]);
  assert.equal(d.notes.emptyText, 1); // whitespace-only text is kept and counted
});

Deno.test("CSV: a BOM-only, empty or whitespace file is an error", () => {
  userError(() => parse("e.csv", ""), ["e.csv: the file is empty"]);
  userError(() => parse("e.csv", new Uint8Array([0xef, 0xbb, 0xbf])), ["e.csv: the file is empty"]);
  userError(() => parse("e.jsonl", "\n \n"), ["e.jsonl: the file is empty", "JSON object"]);
  userError(() => parse("h.csv", "text,label\n"), ["h.csv:1:", "no data rows"]);
});

Deno.test("TSV: tab-separated with quoting; label and pair columns", () => {
  const tsv = "id\tsentence1\tsentence2\tlabel\n" +
    "1\tA cat.\tA dog.\t0\n" +
    '2\t"tab\tinside"\tplain "quote"\t1\n';
  const d = parse("p.tsv", tsv, {
    textColumn: "sentence1",
    textPairColumn: "sentence2",
    labelColumn: "label",
  });
  assert.equal(d.format, "tsv");
  assert.deepEqual(texts(d), ["A cat.", "tab\tinside"]);
  assert.deepEqual(d.rows.map((r) => r.textPair), ["A dog.", 'plain "quote"']);
  assert.deepEqual(d.rows.map((r) => r.label), ["0", "1"]);
});

Deno.test("JSONL: objects, numeric/boolean labels stringified, blank lines, CRLF", () => {
  const jsonl = '{"text": "a", "label": 1, "meta": {"x": 1}}\r\n' +
    "\r\n" +
    '{"text": "b", "label": "pos", "extra": null}\n' +
    '{"text": "c", "label": true}';
  const d = parse("d.jsonl", jsonl, { labelColumn: "label" });
  assert.equal(d.format, "jsonl");
  assert.deepEqual(d.columns, ["text", "label", "meta", "extra"]);
  assert.deepEqual(texts(d), ["a", "b", "c"]);
  assert.deepEqual(d.rows.map((r) => r.label), ["1", "pos", "true"]);
  assert.deepEqual(d.rows.map((r) => r.line), [1, 3, 4]);
  assert.deepEqual(d.rows.map((r) => r.row), [0, 1, 2]);
  // Without a label column no label is read.
  assert.equal(parse("d.jsonl", jsonl).rows[0].label, undefined);
});

Deno.test("format: by extension, overridable, unknown extension is an error", () => {
  assert.equal(formatFromPath("a/b.CSV"), "csv");
  assert.equal(formatFromPath("b.tsv"), "tsv");
  assert.equal(formatFromPath("b.json"), "jsonl");
  assert.equal(formatFromPath("b.jsonl"), "jsonl");
  userError(() => formatFromPath("data.txt"), ["data.txt", "--input-format"]);
  const d = parse("data.txt", '{"text": "x"}\n', { format: "jsonl" });
  assert.deepEqual(texts(d), ["x"]);
});

Deno.test("missing columns list the columns there are and suggest the closest", () => {
  userError(
    () => parse("m.csv", "Text,lable\nx,y\n", { labelColumn: "label" }),
    ['m.csv:1: no column "text"', '"Text", "lable"', 'did you mean "Text"?', "--text-column"],
  );
  userError(
    () => parse("m.csv", "text,lable\nx,y\n", { labelColumn: "label" }),
    ['m.csv:1: no column "label"', 'did you mean "lable"?', "--label-column"],
  );
  userError(
    () => parse("m.csv", "text,zzz\nx,y\n", { textPairColumn: "hypothesis" }),
    ['no column "hypothesis"', "--text-pair-column"],
  );
  const msg = userError(
    () => parse("m.jsonl", '{"sentence": "x", "y": 1}\n', { labelColumn: "y" }),
    ['m.jsonl: no field "text"', '"sentence", "y"', "--text-column"],
  );
  assert.ok(!msg.includes("did you mean"), msg);
  userError(
    () => parse("m.csv", "text,text\nx,y\n"),
    ['m.csv:1: column "text" appears 2 times'],
  );
  assert.equal(closestName("labels", ["text", "label"]), "label");
  assert.equal(closestName("qqq", ["text", "label"]), undefined);
});

Deno.test("CSV errors name file and line: ragged rows, unterminated quote, text after quote", () => {
  userError(
    () => parse("r.csv", "text,label\nok,a\ntoo,many,fields\n", { labelColumn: "label" }),
    ["r.csv:3:", "3 fields, but the header has 2", "quote fields", "--skip-bad-rows"],
  );
  userError(
    () => parse("r.csv", 'text,label\n"multi\nline",a\nshort\n', { labelColumn: "label" }),
    ["r.csv:4:", "1 field, but the header has 2"],
  );
  userError(
    () => parse("r.tsv", "text\tlabel\nx\ty\tz\n", { labelColumn: "label" }),
    ["r.tsv:2:", "3 fields"],
  );
  userError(
    () => parse("u.csv", 'text,label\nok,a\n"never closed,b\nmore,a\n', { labelColumn: "label" }),
    ["u.csv:3:", "unterminated quoted field", "close the quote"],
  );
  userError(
    () => parse("q.csv", 'text,label\nok,a\n"quoted" then text,b\n'),
    ["q.csv:3:", "text after the closing quote of field 1"],
  );
  userError(
    () => parse("h.csv", '"text,label\nok,a\n'),
    ["h.csv:1:", "header row", "unterminated"],
  );
  userError(
    () => parse("l.csv", "text,label\nok,\n", { labelColumn: "label" }),
    ["l.csv:2:", "empty label"],
  );
});

Deno.test("JSONL errors name file and line", () => {
  const opts = { labelColumn: "label" };
  userError(
    () => parse("j.jsonl", '{"text": "a", "label": 1}\n{"text": "b", label: 2}\n', opts),
    ["j.jsonl:2:", "not valid JSON", "one JSON object"],
  );
  userError(
    () => parse("j.jsonl", '{"text": "a", "label": 1}\n\n["b", 2]\n', opts),
    ["j.jsonl:3:", "expected a JSON object, got an array"],
  );
  userError(
    () => parse("j.jsonl", '{"text": "a", "label": 1}\n"just a string"\n', opts),
    ["j.jsonl:2:", "got a string"],
  );
  userError(
    () => parse("j.jsonl", '{"text": "a", "label": 1}\n{"text": 5, "label": 2}\n', opts),
    ['j.jsonl:2: "text" is a number, not a string'],
  );
  userError(
    () => parse("j.jsonl", '{"text": "a", "label": 1}\n{"text": null, "label": 2}\n', opts),
    ['j.jsonl:2: "text" is null'],
  );
  userError(
    () => parse("j.jsonl", '{"text": "a", "label": 1}\n{"label": 2}\n', opts),
    ['j.jsonl:2: no "text" field'],
  );
  userError(
    () => parse("j.jsonl", '{"text": "a", "label": 1}\n{"text": "b", "label": [1]}\n', opts),
    ['j.jsonl:2: "label" is an array', "string, a number or a boolean"],
  );
  userError(
    () => parse("j.jsonl", '{"text": "a", "label": 1}\n{"text": "b"}\n', opts),
    ['j.jsonl:2: no "label" field'],
  );
});

Deno.test("invalid UTF-8: file, line and byte offset; skipped under skipBadRows", () => {
  const head = enc.encode("text,label\nfine,a\n");
  const bad = enc.encode("caf\u00e9,b\n");
  const tail = enc.encode("ok,a\n");
  // Truncate "é" (C3 A9) to a lone C3: ill-formed, followed by ",".
  const broken = bad.filter((_, i) => i !== 4);
  const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...head, ...broken, ...tail]);
  const offset = 3 + head.length + 3;
  userError(
    () => parse("b.csv", bytes, { labelColumn: "label" }),
    ["b.csv:3:", `invalid UTF-8 at byte ${offset}`, "re-save the file as UTF-8"],
  );
  const d = parse("b.csv", bytes, { labelColumn: "label", skipBadRows: true });
  assert.deepEqual(texts(d), ["fine", "ok"]);
  assert.deepEqual(d.rows.map((r) => r.row), [0, 2]);
  assert.deepEqual(d.skipped, [{ line: 3, reason: `invalid UTF-8 at byte ${offset}` }]);

  const jsonl = new Uint8Array([
    ...enc.encode('{"text": "a"}\n{"text": "'),
    0xff,
    ...enc.encode('"}\n{"text": "c"}\n'),
  ]);
  userError(() => parse("b.jsonl", jsonl), ["b.jsonl:2:", "invalid UTF-8 at byte 24"]);
  const dj = parse("b.jsonl", jsonl, { skipBadRows: true });
  assert.deepEqual(texts(dj), ["a", "c"]);
  assert.equal(dj.skipped.length, 1);

  // Overlongs, surrogates and code points above U+10FFFF are ill-formed; valid 4-byte is fine.
  assert.deepEqual(findIllFormed(new Uint8Array([0xc0, 0x80])).map((b) => b.offset), [0]);
  assert.deepEqual(findIllFormed(new Uint8Array([0x41, 0xed, 0xa0, 0x80])).length, 1);
  assert.deepEqual(findIllFormed(new Uint8Array([0xf4, 0x90, 0x80, 0x80])).length, 1);
  assert.deepEqual(findIllFormed(enc.encode("a\u{1F600}b\n\u00e9")), []);
});

Deno.test("skipBadRows: malformed rows are skipped and listed in line order", () => {
  const csv = "text,label\n" +
    "good one,a\n" + // line 2
    "bad,row,here\n" + // line 3: ragged
    '"multi\nline ok",b\n' + // lines 4-5
    '"x" y,a\n' + // line 6: text after quote
    "no label,\n" + // line 7: empty label
    "last,b\n" + // line 8
    '"unterminated,a\n' + // line 9
    "after,a\n"; // line 10: read again after the unterminated quote's line
  const d = parse("s.csv", csv, { labelColumn: "label", skipBadRows: true });
  assert.deepEqual(texts(d), ["good one", "multi\nline ok", "last", "after"]);
  assert.deepEqual(d.rows.map((r) => r.line), [2, 4, 8, 10]);
  assert.deepEqual(d.rows.map((r) => r.row), [0, 2, 5, 7]);
  assert.deepEqual(d.skipped.map((s) => s.line), [3, 6, 7, 9]);
  assert.match(d.skipped[0].reason, /3 fields/);
  assert.match(d.skipped[3].reason, /unterminated/);

  const jsonl = '{"text": "a", "label": 1}\n' +
    "{oops\n" +
    '{"text": 3, "label": 1}\n' +
    "[1]\n" +
    '{"text": "e", "label": 2}\n';
  const dj = parse("s.jsonl", jsonl, { labelColumn: "label", skipBadRows: true });
  assert.deepEqual(texts(dj), ["a", "e"]);
  assert.deepEqual(dj.skipped.map((s) => s.line), [2, 3, 4]);
  assert.deepEqual(dj.rows.map((r) => r.row), [0, 4]);

  userError(
    () => parse("all.jsonl", "{oops\n[1]\n", { skipBadRows: true }),
    ["all.jsonl: no usable rows", "all 2 data rows are malformed", "line 1"],
  );
});

Deno.test("parseDelimited: record start and end lines", () => {
  const recs = [...parseDelimited('a,b\n"x\ny",z\r\n\nlast,"q"', ",")];
  assert.deepEqual(recs.map((r) => [r.line, r.endLine, r.fields]), [
    [1, 1, ["a", "b"]],
    [2, 3, ["x\ny", "z"]],
    [5, 5, ["last", "q"]],
  ]);
  const trailing = [...parseDelimited("a,b,\n", ",")];
  assert.deepEqual(trailing[0].fields, ["a", "b", ""]);
});

Deno.test("readDataset: real files, missing file, directory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "l3mask-data-" });
  try {
    const csv = join(dir, "train.csv");
    await Deno.writeTextFile(csv, 'text,label\n"a, b",x\nc,y\n');
    const d = await readDataset(csv, { labelColumn: "label" });
    assert.deepEqual(texts(d), ["a, b", "c"]);
    assert.equal(d.path, csv);
    const jsonl = join(dir, "dev.json");
    await Deno.writeTextFile(jsonl, '{"text": "q", "label": "x"}\n');
    assert.equal((await readDataset(jsonl)).format, "jsonl");
    await assert.rejects(
      () => readDataset(join(dir, "nope.csv")),
      (e: Error) => e instanceof UserError && e.message.includes("nope.csv: no such file"),
    );
    await Deno.mkdir(join(dir, "sub.csv"));
    await assert.rejects(
      () => readDataset(join(dir, "sub.csv")),
      (e: Error) => e instanceof UserError && e.message.includes("is a directory"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("labels: sorted set, counts, one-class training data, unseen dev labels", () => {
  const rows = [{ label: "10" }, { label: "2" }, { label: "2" }, {}];
  assert.deepEqual(labelSet(rows), ["2", "10"]); // numeric order for integer labels
  assert.deepEqual(labelSet([{ label: "b" }, { label: "B" }, { label: "a" }]), ["B", "a", "b"]);
  assert.deepEqual([...labelCounts(rows)], [["2", 2], ["10", 1]]);

  const train = parse("train.jsonl", '{"text":"a","label":"x"}\n{"text":"b","label":"y"}\n', {
    labelColumn: "label",
  });
  assert.deepEqual(checkTrainLabels(train), ["x", "y"]);
  const one = parse("one.jsonl", '{"text":"a","label":"x"}\n{"text":"b","label":"x"}\n', {
    labelColumn: "label",
  });
  userError(() => checkTrainLabels(one), ["one.jsonl:", 'label "x"', "at least two classes"]);

  const dev = parse(
    "dev.jsonl",
    '{"text":"a","label":"x"}\n{"text":"b","label":"z"}\n{"text":"c","label":"z"}\n' +
      '{"text":"d","label":"w"}\n',
    { labelColumn: "label" },
  );
  userError(() => checkLabelsSeen(["x", "y"], dev, "train.jsonl"), [
    "dev.jsonl:2:",
    "train.jsonl",
    '"z" (2 rows, first on line 2)',
    '"w" (1 row, first on line 4)',
    'training labels: "x", "y"',
  ]);
  checkLabelsSeen(["x", "y", "z", "w"], dev, "train.jsonl");
  // A dataset read without labels is a programming error, not a user error.
  assert.throws(() => checkTrainLabels(parse("n.jsonl", '{"text":"a"}\n')), /no label/);
});

const SHARED = new URL("../../shared/datasets/", import.meta.url).pathname;
const shared = await Deno.stat(SHARED).then(() => true, () => false);

Deno.test({
  name: "shared datasets: citation_intent and hyperpartisan read with their labels",
  ignore: !shared,
  fn: async () => {
    const expect = { citation_intent: 6, hyperpartisan: 2 };
    for (const [name, classes] of Object.entries(expect)) {
      const train = await readDataset(join(SHARED, name, "train.jsonl"), { labelColumn: "label" });
      const labels = checkTrainLabels(train);
      assert.equal(labels.length, classes, name);
      assert.deepEqual(train.skipped, []);
      for (const split of ["dev", "test"]) {
        const d = await readDataset(join(SHARED, name, `${split}.jsonl`), { labelColumn: "label" });
        checkLabelsSeen(labels, d, train.path);
        assert.ok(d.rows.length > 50, `${name}/${split}: ${d.rows.length} rows`);
      }
    }
  },
});
