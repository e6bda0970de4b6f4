/**
 * Dataset files (SPEC §6): CSV or TSV with a header row, or JSONL (one object per line). The whole
 * file is read at once (datasets here are at most ~100 MB). Every problem is a UserError
 * `file:line: what is wrong; what to do`; with `skipBadRows` a malformed row is skipped and
 * listed in `skipped` instead.
 *
 * Rows keep their file identity: `row` is the 0-based index of the data record in the file
 * (header and blank lines not counted, skipped rows counted, so a skipped row leaves a gap) and
 * `line` the 1-based line it starts on.
 *
 * Values: CSV/TSV fields are taken verbatim (no trimming). In JSONL the text columns must be JSON
 * strings; a label may be a string, a number or a boolean (turned into its JSON spelling, so the
 * label 1 and the CSV field "1" are the same class). An empty label is a malformed row; an empty
 * or whitespace-only text is kept and counted in `notes.emptyText`.
 */
import { UserError } from "../errors.ts";
import { closestName } from "../util/names.ts";
import { parseDelimited, type RawRecord } from "./delimited.ts";
import { type BadByte, decodeUtf8 } from "../util/utf8.ts";

export type DataFormat = "csv" | "tsv" | "jsonl";

export interface ReadOptions {
  /** Overrides the format implied by the file extension. */
  format?: DataFormat;
  /** Column holding the text (default "text"). */
  textColumn?: string;
  /** Column holding the second text of a pair; absent or null: single texts. */
  textPairColumn?: string | null;
  /** Column holding the label; absent or null: labels are not read. */
  labelColumn?: string | null;
  /** Skip malformed rows (and count them) instead of failing on the first. */
  skipBadRows?: boolean;
}

export interface DataRow {
  /** 0-based index of the data record in the file (skipped rows included). */
  row: number;
  /** 1-based line the record starts on. */
  line: number;
  text: string;
  textPair?: string;
  label?: string;
}

export interface SkippedRow {
  line: number;
  reason: string;
}

export interface Dataset {
  /** The path as given (it names the file in messages). */
  path: string;
  format: DataFormat;
  /** Header columns (CSV/TSV) or every key seen, in order of first appearance (JSONL). */
  columns: string[];
  rows: DataRow[];
  /** Malformed rows skipped under `skipBadRows`, in line order. */
  skipped: SkippedRow[];
  notes: {
    /** Rows whose text is empty or whitespace only (kept: they score to no tokens). */
    emptyText: number;
    /** Their lines, the first 20 at most. */
    emptyTextLines: number[];
  };
}

/** The option names the CLI uses for each column (they go into "what to do"). */
const FLAG = { text: "--text-column", textPair: "--text-pair-column", label: "--label-column" };
const SKIP_HINT = "or pass --skip-bad-rows to skip malformed rows";

const EXTENSIONS: Record<string, DataFormat> = {
  ".csv": "csv",
  ".tsv": "tsv",
  ".tab": "tsv",
  ".jsonl": "jsonl",
  ".json": "jsonl",
  ".ndjson": "jsonl",
};

/** The format a file name implies; a UserError for an extension that implies none. */
export function formatFromPath(path: string): DataFormat {
  const lower = path.toLowerCase();
  for (const [ext, format] of Object.entries(EXTENSIONS)) {
    if (lower.endsWith(ext)) return format;
  }
  throw new UserError(
    `${path}: cannot tell the format from the file name; name it .csv, .tsv or .jsonl, or pass --input-format csv|tsv|jsonl`,
  );
}

/** Reads and checks a dataset file. */
export async function readDataset(path: string, opts: ReadOptions = {}): Promise<Dataset> {
  const format = opts.format ?? formatFromPath(path);
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new UserError(`${path}: no such file`);
    if (e instanceof Deno.errors.IsADirectory) {
      throw new UserError(`${path}: is a directory; pass a .csv, .tsv or .jsonl file`);
    }
    if (e instanceof Deno.errors.PermissionDenied) {
      throw new UserError(`${path}: permission denied`);
    }
    throw e;
  }
  return parseDataset(bytes, path, { ...opts, format });
}

/** The work of readDataset on bytes already in memory (`path` only names the file). */
export function parseDataset(bytes: Uint8Array, path: string, opts: ReadOptions = {}): Dataset {
  const format = opts.format ?? formatFromPath(path);
  const { text, bad } = decodeUtf8(bytes);
  const skip = opts.skipBadRows ?? false;
  if (bad.length > 0 && !skip) {
    const b = bad[0];
    throw new UserError(
      `${path}:${b.line}: invalid UTF-8 at byte ${b.offset}; re-save the file as UTF-8, ${SKIP_HINT}`,
    );
  }
  if (text.trim() === "") {
    const want = format === "jsonl" ? "one JSON object per line" : "a header row and data rows";
    throw new UserError(`${path}: the file is empty; expected ${want}`);
  }
  const reader = new RowReader(path, format, opts, bad);
  if (format === "jsonl") reader.readJsonl(text);
  else reader.readDelimited(text, format === "csv" ? "," : "\t");
  return reader.finish();
}

type Field = { kind: "missing" } | { kind: "value"; value: unknown };

class RowReader {
  readonly columns: string[] = [];
  readonly rows: DataRow[] = [];
  readonly skipped: SkippedRow[] = [];
  emptyText = 0;
  readonly emptyTextLines: number[] = [];
  private records = 0;
  private readonly textColumn: string;
  private readonly pairColumn: string | null;
  private readonly labelColumn: string | null;
  private readonly skip: boolean;
  private readonly badLines: Map<number, BadByte>;

  constructor(
    readonly path: string,
    readonly format: DataFormat,
    opts: ReadOptions,
    bad: BadByte[],
  ) {
    this.textColumn = opts.textColumn ?? "text";
    this.pairColumn = opts.textPairColumn ?? null;
    this.labelColumn = opts.labelColumn ?? null;
    this.skip = opts.skipBadRows ?? false;
    this.badLines = new Map();
    for (const b of bad) if (!this.badLines.has(b.line)) this.badLines.set(b.line, b);
  }

  /** A malformed data row: an error, or a skipped row under skipBadRows. */
  private badRow(line: number, reason: string, fix: string): void {
    this.records++;
    if (!this.skip) throw new UserError(`${this.path}:${line}: ${reason}; ${fix}, ${SKIP_HINT}`);
    this.skipped.push({ line, reason });
  }

  /** The first invalid UTF-8 sequence on lines first..last, if any. */
  private badBytes(first: number, last: number): BadByte | undefined {
    if (this.badLines.size === 0) return undefined;
    for (let l = first; l <= last; l++) {
      const b = this.badLines.get(l);
      if (b) return b;
    }
    return undefined;
  }

  /** Fails unless every requested column is among `columns`. */
  private requireColumns(where: string, noun: string): void {
    const wanted: [string, string | null][] = [
      [FLAG.text, this.textColumn],
      [FLAG.textPair, this.pairColumn],
      [FLAG.label, this.labelColumn],
    ];
    for (const [flag, name] of wanted) {
      if (name === null || this.columns.includes(name)) continue;
      const list = this.columns.map((c) => JSON.stringify(c)).join(", ") || "none";
      const near = closestName(name, this.columns);
      const hint = near === undefined ? "" : `did you mean ${JSON.stringify(near)}? `;
      throw new UserError(
        `${where}: no ${noun} ${JSON.stringify(name)} (${noun}s: ${list}); ${hint}set ${flag}`,
      );
    }
  }

  readDelimited(text: string, delimiter: "," | "\t"): void {
    const records = parseDelimited(text, delimiter);
    const first = records.next();
    if (first.done) throw new Error("unreachable: non-blank text yields a record");
    const header: RawRecord = first.value;
    if (header.error) {
      throw new UserError(
        `${this.path}:${header.error.line}: header row: ${header.error.reason}; ${header.error.fix}`,
      );
    }
    const badHeader = this.badBytes(header.line, header.endLine);
    if (badHeader) {
      throw new UserError(
        `${this.path}:${badHeader.line}: invalid UTF-8 at byte ${badHeader.offset} in the header row; re-save the file as UTF-8`,
      );
    }
    this.columns.push(...header.fields);
    this.requireColumns(`${this.path}:${header.line}`, "column");
    for (const name of [this.textColumn, this.pairColumn, this.labelColumn]) {
      if (name === null) continue;
      const count = header.fields.filter((f) => f === name).length;
      if (count > 1) {
        throw new UserError(
          `${this.path}:${header.line}: column ${
            JSON.stringify(name)
          } appears ${count} times in the header; rename the duplicates`,
        );
      }
    }
    const index = new Map(header.fields.map((f, i) => [f, i]));
    const hint = delimiter === ","
      ? `quote fields that contain "," or line breaks ("a, b")`
      : "quote fields that contain tabs or line breaks";
    for (const rec of records) {
      const badByte = this.badBytes(rec.line, rec.endLine);
      if (rec.error) {
        this.badRow(rec.error.line, rec.error.reason, rec.error.fix);
      } else if (badByte) {
        this.badRow(badByte.line, `invalid UTF-8 at byte ${badByte.offset}`, "re-save as UTF-8");
      } else if (rec.fields.length !== header.fields.length) {
        const got = rec.fields.length;
        this.badRow(
          rec.line,
          `${got} field${got === 1 ? "" : "s"}, but the header has ${header.fields.length}`,
          hint,
        );
      } else {
        this.addRow(rec.line, (name) => {
          const at = index.get(name);
          return at === undefined ? { kind: "missing" } : { kind: "value", value: rec.fields[at] };
        });
      }
    }
    if (this.records === 0) {
      throw new UserError(
        `${this.path}:${header.line}: a header row but no data rows; add rows below the header`,
      );
    }
  }

  readJsonl(text: string): void {
    const objects: { line: number; obj: Record<string, unknown> }[] = [];
    const seen = new Set<string>();
    /** Lines that failed to parse (skipped), kept in order with the objects. */
    const failed: { line: number; reason: string; fix: string }[] = [];
    let line = 0;
    let pos = 0;
    while (pos <= text.length) {
      const nl = text.indexOf("\n", pos);
      const end = nl < 0 ? text.length : nl;
      line++;
      const raw = text.slice(pos, end);
      pos = end + 1;
      if (raw.trim() === "") continue;
      const badByte = this.badBytes(line, line);
      if (badByte) {
        failed.push({
          line,
          reason: `invalid UTF-8 at byte ${badByte.offset}`,
          fix: "re-save as UTF-8",
        });
        continue;
      }
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch (e) {
        const why = jsonErrorText(e);
        failed.push({
          line,
          reason: `not valid JSON (${why})`,
          fix: "each line must hold one JSON object",
        });
        if (!this.skip) break;
        continue;
      }
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        const kind = value === null
          ? "null"
          : Array.isArray(value)
          ? "an array"
          : `a ${typeof value}`;
        failed.push({
          line,
          reason: `expected a JSON object, got ${kind}`,
          fix: `write one object per line, e.g. {"${this.textColumn}": "..."}`,
        });
        if (!this.skip) break;
        continue;
      }
      const obj = value as Record<string, unknown>;
      for (const k of Object.keys(obj)) {
        if (!seen.has(k)) seen.add(k), this.columns.push(k);
      }
      objects.push({ line, obj });
    }
    // A line that does not parse is reported before a missing column: it may be the reason.
    if (!this.skip && failed.length > 0) {
      const f = failed[0];
      this.badRow(f.line, f.reason, f.fix);
    }
    if (objects.length > 0) this.requireColumns(this.path, "field");
    let o = 0;
    let f = 0;
    while (o < objects.length || f < failed.length) {
      if (f < failed.length && (o >= objects.length || failed[f].line < objects[o].line)) {
        const bad = failed[f++];
        this.badRow(bad.line, bad.reason, bad.fix);
      } else {
        const { line: at, obj } = objects[o++];
        this.addRow(
          at,
          (name) => (Object.hasOwn(obj, name) ? { kind: "value", value: obj[name] } : {
            kind: "missing",
          }),
        );
      }
    }
  }

  /** Checks one well-formed record's values and keeps it (or rejects it as a bad row). */
  private addRow(line: number, get: (name: string) => Field): void {
    const keys = this.format === "jsonl" ? "field" : "column";
    const text = this.stringValue(get(this.textColumn), this.textColumn, keys);
    if (typeof text !== "string") return this.badRow(line, text.reason, text.fix);
    let textPair: string | undefined;
    if (this.pairColumn !== null) {
      const v = this.stringValue(get(this.pairColumn), this.pairColumn, keys);
      if (typeof v !== "string") return this.badRow(line, v.reason, v.fix);
      textPair = v;
    }
    let label: string | undefined;
    if (this.labelColumn !== null) {
      const v = this.labelValue(get(this.labelColumn), this.labelColumn, keys);
      if (typeof v !== "string") return this.badRow(line, v.reason, v.fix);
      label = v;
    }
    const row: DataRow = { row: this.records++, line, text };
    if (textPair !== undefined) row.textPair = textPair;
    if (label !== undefined) row.label = label;
    if (text.trim() === "") {
      this.emptyText++;
      if (this.emptyTextLines.length < 20) this.emptyTextLines.push(line);
    }
    this.rows.push(row);
  }

  private stringValue(
    f: Field,
    name: string,
    keys: string,
  ): string | { reason: string; fix: string } {
    const q = JSON.stringify(name);
    if (f.kind === "missing") return { reason: `no ${q} ${keys}`, fix: `add ${q} to this row` };
    if (typeof f.value === "string") return f.value;
    return {
      reason: `${q} is ${describe(f.value)}, not a string`,
      fix: `write it as a JSON string`,
    };
  }

  private labelValue(
    f: Field,
    name: string,
    keys: string,
  ): string | { reason: string; fix: string } {
    const q = JSON.stringify(name);
    if (f.kind === "missing") return { reason: `no ${q} ${keys}`, fix: `add a label to this row` };
    const v = f.value;
    let label: string;
    if (typeof v === "string") label = v;
    else if (typeof v === "number" || typeof v === "boolean") label = String(v);
    else {
      return {
        reason: `${q} is ${describe(v)}`,
        fix: "a label must be a string, a number or a boolean",
      };
    }
    if (label.trim() === "") return { reason: `empty label`, fix: `add a label to this row` };
    return label;
  }

  finish(): Dataset {
    this.skipped.sort((a, b) => a.line - b.line);
    if (this.rows.length === 0) {
      const s = this.skipped[0];
      const first = s ? ` (first: line ${s.line}: ${s.reason})` : "";
      throw new UserError(
        `${this.path}: no usable rows: all ${this.skipped.length} data rows are malformed${first}; fix the file`,
      );
    }
    return {
      path: this.path,
      format: this.format,
      columns: this.columns,
      rows: this.rows,
      skipped: this.skipped,
      notes: { emptyText: this.emptyText, emptyTextLines: this.emptyTextLines },
    };
  }
}

/** V8's JSON.parse message with "position N (line 1 column M)" said as "column M". */
function jsonErrorText(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.replace(/ in JSON at position \d+ \(line \d+ column (\d+)\)/, " at column $1");
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}
