/**
 * The `score --report` HTML file: self-contained (nothing loaded from anywhere), user text escaped,
 * top/bottom token and word lists right on a hand-made example, histogram counts summing to the
 * scored tokens, readable rendering of byte-level BPE (`Ġ`, split UTF-8) and WordPiece (`##`)
 * tokens, the cut to the first texts with statistics over all rows, and the file size.
 */
import assert from "node:assert/strict";
import {
  renderScoreReport,
  renderTokens,
  type ReportInfo,
  type ScoredRow,
} from "../src/report/score_report.ts";
import { summarizeScores } from "../src/report/score_summary.ts";
import { escapeHtml } from "../src/report/html.ts";

// GPT-2's bytes_to_unicode, written out here so the test does not reuse the code it checks.
const CHAR_OF_BYTE: string[] = (() => {
  const out: string[] = [];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    const keep = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    out.push(String.fromCharCode(keep ? b : 256 + n++));
  }
  return out;
})();

/** Text → one byte-level BPE token string (`" world"` → `"Ġworld"`). */
function bl(text: string): string {
  return [...new TextEncoder().encode(text)].map((b) => CHAR_OF_BYTE[b]).join("");
}

function bytesToken(bytes: number[]): string {
  return bytes.map((b) => CHAR_OF_BYTE[b]).join("");
}

/** mulberry32, seeded. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Tok {
  t: string;
  w: number | null;
  m?: number;
  p?: number;
}

/** A row from (token, word, m, PLT) tuples; specials (w null) get plt/logp null and m 0. */
function row(index: number, toks: Tok[], text = ""): ScoredRow {
  return {
    row: index,
    text,
    tokens: toks.map((x) => x.t),
    ids: toks.map((x) => idOf(x.t)),
    word: toks.map((x) => x.w),
    plt: toks.map((x) => (x.w === null ? null : x.p ?? 0.5)),
    logp: toks.map((x) => (x.w === null ? null : Math.log(x.p ?? 0.5))),
    mask_prob: toks.map((x) => (x.w === null ? 0 : x.m ?? 0.15)),
    scoring: "exact",
  };
}

const ids = new Map<string, number>();
function idOf(t: string): number {
  if (!ids.has(t)) ids.set(t, ids.size);
  return ids.get(t)!;
}

const info = (kind: ReportInfo["kind"]): ReportInfo => ({
  settings: {
    model: "roberta-base",
    "input file": "data/train.jsonl",
    "max length": 128,
    pbar: 0.15,
    complement: "one-minus",
    overflow: "redistribute",
  },
  stats: { rows: 3, "tokens/s": 1234.5, "wall time": "3.2 s" },
  kind,
});

/** Text content of an HTML fragment: tags dropped, entities decoded. */
function textOf(html: string): string {
  return html.replace(/<[^>]*>/g, "").replace(/&lt;/g, "<").replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, "&");
}

/** The item labels of the ranking table with this caption, in order. */
function tableItems(html: string, caption: string): string[] {
  const start = html.indexOf(`<caption>${caption}</caption>`);
  assert.ok(start >= 0, `no table captioned ${caption}`);
  const table = html.slice(start, html.indexOf("</table>", start));
  return [...table.matchAll(/<td class="item"[^>]*><span[^>]*>(.*?)<\/span><\/td>/g)].map((m) =>
    textOf(m[1])
  );
}

// WordPiece: "the" 3 times (m .05, .07, .03), "cat" twice (.4, .2), "sat" twice (.1, .3),
// "dog ##gy" once, "ran" once.
const wpRows: ScoredRow[] = [
  row(0, [
    { t: "[CLS]", w: null },
    { t: "the", w: 0, m: 0.05, p: 0.9 },
    { t: "cat", w: 1, m: 0.4, p: 0.2 },
    { t: "sat", w: 2, m: 0.1, p: 0.7 },
    { t: "[SEP]", w: null },
  ]),
  row(1, [
    { t: "[CLS]", w: null },
    { t: "the", w: 0, m: 0.07, p: 0.8 },
    { t: "dog", w: 1, m: 0.6, p: 0.05 },
    { t: "##gy", w: 1, m: 0.2, p: 0.45 },
    { t: "sat", w: 2, m: 0.3, p: 0.3 },
    { t: "[SEP]", w: null },
  ]),
  row(2, [
    { t: "[CLS]", w: null },
    { t: "the", w: 0, m: 0.03, p: 1.0 },
    { t: "cat", w: 1, m: 0.2, p: 0.4 },
    { t: "ran", w: 2, m: 0.5, p: 0.1 },
    { t: "[SEP]", w: null },
  ]),
];

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} != ${b}`);

Deno.test("top/bottom tokens: means over occurrences, only items seen twice", () => {
  const s = summarizeScores(wpRows, "wordpiece");
  assert.deepEqual(s.tokens.top.map((x) => x.label), ["cat", "sat", "the"]);
  assert.deepEqual(s.tokens.bottom.map((x) => x.label), ["the", "sat", "cat"]);
  assert.deepEqual(s.tokens.top.map((x) => x.count), [2, 2, 3]);
  close(s.tokens.top[0].meanMask, 0.3);
  close(s.tokens.top[0].meanPlt, 0.3);
  close(s.tokens.top[2].meanMask, 0.05);
  close(s.tokens.top[2].meanPlt, 0.9);
  assert.equal(s.tokens.distinct, 6);
  assert.equal(s.tokens.eligible, 3);
  assert.equal(s.scoredTokens, 10);
  close(s.meanMask, (0.05 + 0.4 + 0.1 + 0.07 + 0.6 + 0.2 + 0.3 + 0.03 + 0.2 + 0.5) / 10);
  assert.equal(s.maxMask, 0.6);

  const html = renderScoreReport(wpRows, info("wordpiece"));
  assert.deepEqual(tableItems(html, "Tokens: highest 30"), ["cat", "sat", "the"]);
  assert.deepEqual(tableItems(html, "Tokens: lowest 30"), ["the", "sat", "cat"]);
  assert.ok(html.includes("seen at least 2 times"), "the minimum count is not stated");
});

Deno.test("top/bottom words: rebuilt from word indices, topK and minCount", () => {
  const s = summarizeScores(wpRows, "wordpiece", { minCount: 1, topK: 2 });
  // "doggy" = dog + ##gy: mean m (0.6 + 0.2) / 2 = 0.4, mean PLT 0.25; "ran" 0.5.
  assert.deepEqual(s.words.top.map((x) => x.label), ["ran", "doggy"]);
  close(s.words.top[1].meanMask, 0.4);
  close(s.words.top[1].meanPlt, 0.25);
  assert.deepEqual(s.words.bottom.map((x) => x.label), ["the", "sat"]);
  assert.equal(s.words.distinct, 5);

  const html = renderScoreReport(wpRows, info("wordpiece"), { minCount: 1, topK: 2 });
  assert.deepEqual(tableItems(html, "Words: highest 2"), ["ran", "doggy"]);
  assert.deepEqual(tableItems(html, "Words: lowest 2"), ["the", "sat"]);
  assert.ok(html.includes("seen at least 1 time "), "the minimum count is not stated");
});

Deno.test("BPE words: lower-cased, split by word index, not by Ġ", () => {
  const rows = [
    row(0, [
      { t: "<s>", w: null },
      { t: "The", w: 0, m: 0.1 },
      { t: bl(" pars"), w: 1, m: 0.3 },
      { t: "er", w: 1, m: 0.5 },
      { t: bl(" ("), w: 2, m: 0.2 },
      { t: "table", w: 3, m: 0.6 },
      { t: ").", w: 4, m: 0.05 },
      { t: "</s>", w: null },
    ]),
    row(1, [
      { t: "<s>", w: null },
      { t: bl(" the"), w: 0, m: 0.2 },
      { t: bl(" parser"), w: 1, m: 0.1 },
      { t: "</s>", w: null },
    ]),
  ];
  const s = summarizeScores(rows, "bpe", { minCount: 1, topK: 100 });
  const words = new Map(s.words.top.map((x) => [x.label, x]));
  assert.deepEqual([...words.keys()].sort(), ["(", ").", "parser", "table", "the"]);
  assert.equal(words.get("the")!.count, 2);
  close(words.get("the")!.meanMask, 0.15);
  assert.equal(words.get("parser")!.count, 2);
  close(words.get("parser")!.meanMask, (0.4 + 0.1) / 2); // (0.3 + 0.5) / 2 in row 0, 0.1 in row 1
  // Tokens stay distinct: "The", "Ġthe" and "Ġparser" vs "Ġpars" "er".
  assert.equal(s.tokens.distinct, 8);
  assert.ok(s.tokens.top.some((x) => x.label === "␣parser" && x.detail.startsWith("Ġparser")));
});

Deno.test("histogram counts sum to the scored tokens", () => {
  const r = rng(7);
  const rows: ScoredRow[] = [];
  let scored = 0;
  for (let k = 0; k < 60; k++) {
    const n = Math.floor(r() * 40);
    const toks: Tok[] = [{ t: "<s>", w: null }];
    for (let i = 0; i < n; i++) toks.push({ t: bl(` w${i % 9}`), w: i, m: r() ** 3, p: r() });
    if (k === 3) toks.push({ t: bl(" max"), w: n, m: 1, p: 0 }); // m = 1 lands in the last bin
    toks.push({ t: "</s>", w: null });
    scored += toks.length - 2;
    rows.push(row(k, toks));
  }
  const s = summarizeScores(rows, "bpe");
  assert.equal(s.scoredTokens, scored);
  assert.equal(s.histogram.counts.reduce((a, b) => a + b, 0), scored);
  assert.ok(s.histogram.counts.length >= 15 && s.histogram.counts.length <= 25);
  assert.ok(s.histogram.hi >= 1 && s.histogram.counts.at(-1)! >= 1);

  const html = renderScoreReport(rows, info("bpe"));
  const bars = [...html.matchAll(/<rect class="bar"[^>]*data-count="(\d+)"/g)].map((m) => +m[1]);
  assert.equal(bars.length, s.histogram.counts.length);
  assert.equal(bars.reduce((a, b) => a + b, 0), scored);
  assert.ok(html.includes("mask probability m") && html.includes("scored tokens</text>"));
});

Deno.test("no resource is loaded from anywhere", () => {
  const rows = [
    ...wpRows,
    row(
      3,
      [{ t: "[CLS]", w: null }, { t: "https", w: 0 }, { t: "[SEP]", w: null }],
      "see https://x.org",
    ),
  ];
  for (const rs of [wpRows, rows]) {
    const html = renderScoreReport(rs, info("wordpiece"));
    assert.doesNotMatch(html, /<script|<link|<img|<iframe|<object|<embed|@import|url\(|\bsrc=/i);
    assert.doesNotMatch(html, /xmlns/);
    for (const m of html.matchAll(/href="([^"]*)"/g)) assert.match(m[1], /^#/);
    assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  }
  assert.doesNotMatch(renderScoreReport(wpRows, info("wordpiece")), /https?:\/\//);
});

Deno.test("user text is escaped everywhere", () => {
  const evil = '<script>alert("x")</script>';
  const rows = [
    row(0, [
      { t: "<s>", w: null },
      { t: bl(evil), w: 0, m: 0.3 },
      { t: bl(' "&amp;'), w: 1, m: 0.2 },
      { t: bl(" café 😀"), w: 2, m: 0.1 },
      { t: "</s>", w: null },
    ], evil),
    row(1, [
      { t: "<s>", w: null },
      { t: bl(evil), w: 0, m: 0.3 },
      { t: bl(' "&amp;'), w: 1, m: 0.2 },
      { t: "</s>", w: null },
    ], evil),
  ];
  const i = info("bpe");
  i.settings["input file"] = "<b>x</b>.jsonl";
  i.stats['odd "key"'] = "<i>";
  const html = renderScoreReport(rows, i);
  assert.ok(!html.includes("<script"), "a raw <script> reached the page");
  assert.ok(!html.includes("<b>x</b>") && !html.includes("<i>"));
  assert.ok(html.includes("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
  assert.ok(html.includes("&quot;&amp;amp;"), "quote and ampersand of a token");
  assert.ok(html.includes("café 😀"), "non-ASCII text decoded from byte-level tokens");
  assert.ok(html.includes("&lt;b&gt;x&lt;/b&gt;.jsonl") && html.includes("odd &quot;key&quot;"));
  // Every title attribute is a well-formed quoted value: no raw quote or angle bracket inside.
  for (const m of html.matchAll(/title="([^"]*)"/g)) assert.doesNotMatch(m[1], /[<>]/);
  assert.equal(escapeHtml("a\u0000b'c"), "a\ufffdb&#39;c");
});

Deno.test("byte-level BPE rendering: Ġ is a space outside the span, bytes decoded", () => {
  const r = row(0, [
    { t: "<s>", w: null },
    { t: "Hello", w: 0, m: 0.1 },
    { t: bl(" world"), w: 1, m: 0.2 },
    { t: "!", w: 2, m: 0.3 },
    { t: bl(" caf"), w: 3, m: 0.1 },
    { t: bl("é"), w: 3, m: 0.1 },
    { t: bytesToken([0x20, 0xf0, 0x9f]), w: 4, m: 0.1 }, // " 😀" split inside the character
    { t: bytesToken([0x98, 0x80]), w: 4, m: 0.1 },
    { t: bl("\n"), w: 5, m: 0.1 },
    { t: bl(" "), w: 6, m: 0.1 },
    { t: "</s>", w: null },
  ]);
  const html = renderTokens(r, "bpe", 0.3);
  assert.equal(textOf(html), "<s>Hello world! café ·😀↵ ␣</s>");
  assert.ok(!textOf(html).includes("Ġ"));
  assert.match(html, /<\/i> <i class=m\d+ title="Ġworld\n/);
  assert.match(html, /<i class=s title="&lt;s&gt;\nid \d+\nspecial token, m 0">&lt;s&gt;<\/i>/);
  assert.match(html, /<i class=m20 title="!\nid \d+\nPLT 0\.5\nlog p -0\.693\nm 0\.3">!<\/i>/);
});

Deno.test("WordPiece rendering: ## joins the previous token, specials grey", () => {
  const r = row(0, [
    { t: "[CLS]", w: null },
    { t: "play", w: 0, m: 0.2 },
    { t: "##ing", w: 0, m: 0.4 },
    { t: "football", w: 1, m: 0 },
    { t: ",", w: 2, m: 0.1 },
    { t: "[SEP]", w: null },
  ]);
  const html = renderTokens(r, "wordpiece", 0.4);
  assert.equal(textOf(html), "[CLS]playing football ,[SEP]");
  assert.match(html, /<i class=m10 title="play\n[^"]*">play<\/i><i class=m20 title="##ing\n/);
  assert.match(html, / <i class=m0 title="football\n/); // m = 0: white
  assert.equal((html.match(/<i class=s /g) ?? []).length, 2);
});

Deno.test("only the first texts are shown, statistics use all rows", () => {
  const rows: ScoredRow[] = [];
  for (let k = 0; k < 250; k++) {
    rows.push(row(k, [
      { t: "[CLS]", w: null },
      { t: "word", w: 0, m: k === 240 ? 0.9 : 0.1 },
      { t: "[SEP]", w: null },
    ]));
  }
  const html = renderScoreReport(rows, info("wordpiece"));
  assert.equal((html.match(/<div class="text">/g) ?? []).length, 200);
  assert.ok(html.includes("Showing the first 200 of 250 texts; 50 omitted"));
  assert.ok(html.includes('<th scope="row">largest m</th><td>0.9</td>'), "max over all rows");
  assert.ok(html.includes('<th scope="row">scored tokens</th><td>250</td>'));
  assert.ok(html.includes("row 199") && !html.includes("row 200<"));

  const few = renderScoreReport(rows, info("wordpiece"), { maxTexts: 5 });
  assert.equal((few.match(/<div class="text">/g) ?? []).length, 5);
  assert.ok(few.includes("Showing the first 5 of 250 texts; 245 omitted"));
});

Deno.test("200 texts of 128 tokens stay under 2 MB", () => {
  // Token strings of English-like lengths (RoBERTa's average is about 4.5 characters with the Ġ),
  // 5-digit ids and full-precision PLTs: the realistic worst case of a max-length-128 run.
  const vocab = [
    " the",
    " of",
    " and",
    " model",
    " results",
    "ing",
    ".",
    ",",
    " we",
    " propose",
    " (",
    ")",
    " citation",
    " intent",
    " classification",
    " task",
    "s",
    " in",
    " to",
    " a",
    " learning",
  ];
  const r = rng(3);
  const rows: ScoredRow[] = [];
  for (let k = 0; k < 500; k++) {
    const text: string[] = [];
    const toks: Tok[] = [{ t: "<s>", w: null }];
    for (let i = 0; i < 126; i++) {
      const t = vocab[Math.floor(r() * vocab.length)];
      text.push(t);
      toks.push({ t: bl(t), w: i, m: r() * 0.6, p: r() });
    }
    toks.push({ t: "</s>", w: null });
    const sr = row(k, toks, text.join(""));
    sr.ids = sr.ids.map(() => 10000 + Math.floor(r() * 40000));
    rows.push(sr);
  }
  const html = renderScoreReport(rows, info("bpe"));
  const bytes = new TextEncoder().encode(html).length;
  assert.ok(bytes < 2_000_000, `report is ${bytes} bytes`);
  assert.equal((html.match(/<div class="text">/g) ?? []).length, 200);
});

Deno.test("rows with mismatched field lengths are refused", () => {
  const bad = row(4, [{ t: "[CLS]", w: null }, { t: "x", w: 0 }]);
  bad.mask_prob.pop();
  assert.throws(
    () => renderScoreReport([bad], info("wordpiece")),
    /row 4 has 2 tokens but mask_prob has 1 entries/,
  );
});

Deno.test("no rows, or nothing scored, still renders", () => {
  const empty = row(0, [{ t: "<s>", w: null }, { t: "</s>", w: null }], "");
  for (const rows of [[], [empty]]) {
    const html = renderScoreReport(rows, info("bpe"));
    assert.doesNotMatch(html, /NaN|undefined|Infinity/);
    const s = summarizeScores(rows, "bpe");
    assert.equal(s.histogram.counts.reduce((a, b) => a + b, 0), 0);
  }
  assert.ok(renderScoreReport([empty], info("bpe")).includes("no scored tokens (empty text)"));
});
