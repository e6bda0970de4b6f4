import type { Vec } from "./types.ts";

export interface PositionDims {
  B: number;
  T: number;
  /** BERT: 0..T-1; RoBERTa: cumsum(mask) * mask + padId with mask = ids != padId. */
  kind: "bert" | "roberta";
  padId: number;
}

export interface EmbeddingDims {
  B: number;
  T: number;
  C: number;
}

/** CPU reference (also the host's implementation, see positionIdsHost): position ids. */
export function positionIds(
  pos: Uint32Array, // (B, T)
  ids: Uint32Array, // (B, T)
  dims: PositionDims,
): void {
  const { B, T, kind, padId } = dims;
  for (let b = 0; b < B; b++) {
    let count = 0;
    for (let t = 0; t < T; t++) {
      const i = b * T + t;
      if (kind === "bert") {
        pos[i] = t;
      } else if (ids[i] === padId) {
        pos[i] = padId;
      } else {
        count++;
        pos[i] = padId + count;
      }
    }
  }
}

/** CPU reference: out[b, t] = wte[ids[b, t]] + wpe[pos[b, t]] + tte[0]. */
export function embeddingForward(
  out: Vec, // (B, T, C)
  ids: Uint32Array, // (B, T)
  pos: Uint32Array, // (B, T)
  wte: Vec, // (V, C)
  wpe: Vec, // (P, C)
  tte: Vec, // (types, C)
  dims: EmbeddingDims,
): void {
  const { B, T, C } = dims;
  for (let n = 0; n < B * T; n++) {
    for (let c = 0; c < C; c++) {
      out[n * C + c] = wte[ids[n] * C + c] + wpe[pos[n] * C + c] + tte[c];
    }
  }
}

/**
 * CPU reference: dwte[ids[n]] += dout[n]; dwpe[pos[n]] += dout[n]; dtte[0] += dout[n] (sums in
 * f64, then added). Takes the ids and positions where the GPU wrapper takes their buckets.
 */
export function embeddingBackward(
  dwte: Vec, // (V, C)
  dwpe: Vec, // (P, C)
  dtte: Vec, // (types, C)
  dout: Vec, // (B, T, C)
  ids: Uint32Array, // (B, T)
  pos: Uint32Array, // (B, T)
  dims: EmbeddingDims,
): void {
  const { B, T, C } = dims;
  const N = B * T;
  const sums = (keys: Uint32Array | null) => {
    const acc = new Map<number, Float64Array>();
    for (let n = 0; n < N; n++) {
      const key = keys ? keys[n] : 0;
      let row = acc.get(key);
      if (!row) acc.set(key, row = new Float64Array(C));
      for (let c = 0; c < C; c++) row[c] += dout[n * C + c];
    }
    return acc;
  };
  const addRows = (dst: Vec, acc: Map<number, Float64Array>) => {
    for (const [key, row] of acc) for (let c = 0; c < C; c++) dst[key * C + c] += row[c];
  };
  addRows(dwte, sums(ids));
  addRows(dwpe, sums(pos));
  addRows(dtte, sums(null));
}
