/**
 * RFC 4180 records from CSV or TSV text. A field that starts with '"' is quoted: it may hold the
 * delimiter, line breaks and doubled quotes (""), and must be followed by a delimiter, a line
 * break or the end of the file. A quote inside an unquoted field is an ordinary character (as in
 * Python's csv module). Lines end with "\n" or "\r\n"; a lone "\r" is text. Blank lines between
 * records are skipped. TSV uses the same rules with a tab as the delimiter (pandas and Python's
 * csv module write TSV that way).
 *
 * A malformed record is yielded with `error` set and the parser carries on where it can: after
 * the line an unterminated quote opened on, or after the line with text behind a closing quote.
 */

export interface RawRecord {
  /** 1-based line the record starts on. */
  line: number;
  /** 1-based line the record ends on (greater than `line` when a quoted field holds line breaks). */
  endLine: number;
  /** The fields read (incomplete when `error` is set). */
  fields: string[];
  /** What is wrong and how to fix it, when the record is malformed. */
  error?: { reason: string; fix: string; line: number };
}

const NL = 10;
const CR = 13;
const QUOTE = 34;

export function* parseDelimited(text: string, delimiter: "," | "\t"): Generator<RawRecord> {
  const d = delimiter.charCodeAt(0);
  const n = text.length;
  let i = 0;
  let line = 1;
  /** Moves past the end of the physical line holding position `from`. */
  const skipLine = (from: number) => {
    const j = text.indexOf("\n", from);
    i = j < 0 ? n : j + 1;
    if (j >= 0) line++;
  };

  while (i < n) {
    const c0 = text.charCodeAt(i);
    if (c0 === NL) {
      i++, line++;
      continue;
    }
    if (c0 === CR && text.charCodeAt(i + 1) === NL) {
      i += 2, line++;
      continue;
    }
    const start = line;
    const fields: string[] = [];
    let error: RawRecord["error"];
    for (;;) {
      if (text.charCodeAt(i) === QUOTE) {
        const openLine = line;
        const openPos = i;
        i++;
        let value = "";
        let seg = i;
        let closed = false;
        while (i < n) {
          const c = text.charCodeAt(i);
          if (c === QUOTE) {
            if (text.charCodeAt(i + 1) === QUOTE) {
              value += text.slice(seg, i + 1);
              i += 2;
              seg = i;
              continue;
            }
            value += text.slice(seg, i);
            i++;
            closed = true;
            break;
          }
          if (c === NL) line++;
          i++;
        }
        if (!closed) {
          error = {
            reason:
              `unterminated quoted field (the quote opened on line ${openLine} is never closed)`,
            fix: `close the quote, and double every quote inside a quoted field ("")`,
            line: openLine,
          };
          line = openLine;
          skipLine(openPos);
          break;
        }
        fields.push(value);
        if (i >= n) break;
        const c = text.charCodeAt(i);
        if (c === d) {
          i++;
          continue;
        }
        if (c === NL) {
          i++, line++;
          break;
        }
        if (c === CR && text.charCodeAt(i + 1) === NL) {
          i += 2, line++;
          break;
        }
        error = {
          reason: `text after the closing quote of field ${fields.length}`,
          fix: `quote the whole field and double every quote inside it ("")`,
          line,
        };
        skipLine(i);
        break;
      } else {
        let j = i;
        while (j < n) {
          const c = text.charCodeAt(j);
          if (c === d || c === NL) break;
          j++;
        }
        const atDelimiter = j < n && text.charCodeAt(j) === d;
        const end = !atDelimiter && j > i && text.charCodeAt(j - 1) === CR ? j - 1 : j;
        fields.push(text.slice(i, end));
        if (atDelimiter) {
          i = j + 1;
          continue;
        }
        if (j < n) line++;
        i = j < n ? j + 1 : n;
        break;
      }
    }
    // A record ends on the line before `line` when it ended with a line break, else on `line`.
    const endLine = error ? error.line : (text.charCodeAt(i - 1) === NL ? line - 1 : line);
    yield { line: start, endLine: Math.max(start, endLine), fields, error };
  }
}
