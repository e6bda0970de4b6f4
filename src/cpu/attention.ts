/**
 * CPU reference of multi-head self-attention with an additive key mask, written from the math with
 * f64 accumulators. Layout as in src/kernels/attention.ts: q, k, v, out are (B, T, C), C = NH * HS,
 * head h in columns h*HS..(h+1)*HS; att is (B, NH, T, T); maskAdd is (B, T). Every output is
 * overwritten.
 */
import type { Vec } from "./types.ts";

export interface AttentionDims {
  B: number;
  T: number;
  NH: number;
  HS: number;
}

/** The lowest finite f32: scores are clamped to it so a -inf mask never makes NaN. */
const LOWEST = -3.4028234663852886e38;

/**
 * Row qo of q against the keys of sequence b, head h: s[j] = exp(score_j - max) with score_j =
 * max(q . k_j / sqrt(HS) + maskAdd[b,j], LOWEST); returns sum_j s[j].
 */
function expScores(
  s: Float64Array,
  q: Vec,
  qo: number,
  k: Vec,
  maskAdd: Vec,
  b: number,
  h: number,
  dims: AttentionDims,
): number {
  const { T, NH, HS } = dims;
  const C = NH * HS;
  const scale = 1 / Math.sqrt(HS);
  let max = -Infinity;
  for (let j = 0; j < T; j++) {
    const kj = (b * T + j) * C + h * HS;
    let dot = 0;
    for (let d = 0; d < HS; d++) dot += q[qo + d] * k[kj + d];
    s[j] = Math.max(dot * scale + maskAdd[b * T + j], LOWEST);
    max = Math.max(max, s[j]);
  }
  let sum = 0;
  for (let j = 0; j < T; j++) {
    s[j] = Math.exp(s[j] - max);
    sum += s[j];
  }
  return sum;
}

/** att[b,h,i,j] = softmax_j(q_i . k_j / sqrt(HS) + maskAdd[b,j]). */
export function attentionScores(
  att: Vec,
  q: Vec,
  k: Vec,
  maskAdd: Vec,
  dims: AttentionDims,
): void {
  const { B, T, NH, HS } = dims;
  const C = NH * HS;
  const s = new Float64Array(T);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      for (let i = 0; i < T; i++) {
        const sum = expScores(s, q, (b * T + i) * C + h * HS, k, maskAdd, b, h, dims);
        const o = ((b * NH + h) * T + i) * T;
        for (let j = 0; j < T; j++) att[o + j] = s[j] / sum;
      }
    }
  }
}

/**
 * R query rows, row r of sequence seq[r]: out[r,h*HS+d] = sum_j softmax_j(q_r . k_(b,j) / sqrt(HS)
 * + maskAdd[b,j]) v[b,j,h*HS+d], b = seq[r]; q and out are (R, C).
 */
export function attentionQuery(
  out: Vec,
  q: Vec,
  k: Vec,
  v: Vec,
  maskAdd: Vec,
  seq: Uint32Array,
  dims: AttentionDims,
): void {
  const { T, NH, HS } = dims;
  const C = NH * HS;
  const s = new Float64Array(T);
  seq.forEach((b, r) => {
    for (let h = 0; h < NH; h++) {
      const qo = r * C + h * HS;
      const sum = expScores(s, q, qo, k, maskAdd, b, h, dims);
      for (let d = 0; d < HS; d++) {
        let acc = 0;
        for (let j = 0; j < T; j++) acc += s[j] * v[(b * T + j) * C + h * HS + d];
        out[qo + d] = acc / sum;
      }
    }
  });
}

/** out[b,i,h*HS+d] = sum_j att[b,h,i,j] v[b,j,h*HS+d] (att: any weights). */
export function attentionContext(out: Vec, att: Vec, v: Vec, dims: AttentionDims): void {
  const { B, T, NH, HS } = dims;
  const C = NH * HS;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      for (let i = 0; i < T; i++) {
        const a = ((b * NH + h) * T + i) * T;
        for (let d = 0; d < HS; d++) {
          let sum = 0;
          for (let j = 0; j < T; j++) sum += att[a + j] * v[(b * T + j) * C + h * HS + d];
          out[(b * T + i) * C + h * HS + d] = sum;
        }
      }
    }
  }
}

/** datt[b,h,i,j] = dout_i . v_j (per head); dv[b,j,h*HS+d] = sum_i att[b,h,i,j] dout[b,i,h*HS+d]. */
export function attentionContextBackward(
  datt: Vec,
  dv: Vec,
  dout: Vec,
  att: Vec,
  v: Vec,
  dims: AttentionDims,
): void {
  const { B, T, NH, HS } = dims;
  const C = NH * HS;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      const a = (b * NH + h) * T * T;
      for (let i = 0; i < T; i++) {
        for (let j = 0; j < T; j++) {
          let dot = 0;
          for (let d = 0; d < HS; d++) {
            dot += dout[(b * T + i) * C + h * HS + d] * v[(b * T + j) * C + h * HS + d];
          }
          datt[a + i * T + j] = dot;
        }
      }
      for (let j = 0; j < T; j++) {
        for (let d = 0; d < HS; d++) {
          let sum = 0;
          for (let i = 0; i < T; i++) {
            sum += att[a + i * T + j] * dout[(b * T + i) * C + h * HS + d];
          }
          dv[(b * T + j) * C + h * HS + d] = sum;
        }
      }
    }
  }
}

/**
 * dS = att * (g - sum_j g * att); dq = dS k / sqrt(HS); dk = dSᵀ q / sqrt(HS). g = datt, or with
 * `drop` (the forward's dropped probabilities and p) the dropout's backward of datt, the element
 * kept where the dropped value is nonzero: g = dropped != 0 ? datt / (1 - p) : 0 (as
 * dropoutBackward scales).
 */
export function attentionScoresBackward(
  dq: Vec,
  dk: Vec,
  dattIn: Vec,
  att: Vec,
  q: Vec,
  k: Vec,
  dims: AttentionDims,
  drop: { dropped: Vec; p: number } | null = null,
): void {
  const { B, T, NH, HS } = dims;
  let datt = dattIn;
  if (drop) {
    const s = drop.p < 1 ? 1 / (1 - drop.p) : 0;
    datt = new Float64Array(dattIn.length);
    for (let i = 0; i < datt.length; i++) datt[i] = drop.dropped[i] !== 0 ? dattIn[i] * s : 0;
  }
  const C = NH * HS;
  const scale = 1 / Math.sqrt(HS);
  const ds = new Float64Array(T * T);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      const a = (b * NH + h) * T * T;
      for (let i = 0; i < T; i++) {
        let dot = 0;
        for (let j = 0; j < T; j++) dot += datt[a + i * T + j] * att[a + i * T + j];
        for (let j = 0; j < T; j++) {
          ds[i * T + j] = att[a + i * T + j] * (datt[a + i * T + j] - dot);
        }
      }
      for (let i = 0; i < T; i++) {
        for (let d = 0; d < HS; d++) {
          let sum = 0;
          for (let j = 0; j < T; j++) sum += ds[i * T + j] * k[(b * T + j) * C + h * HS + d];
          dq[(b * T + i) * C + h * HS + d] = sum * scale;
        }
      }
      for (let j = 0; j < T; j++) {
        for (let d = 0; d < HS; d++) {
          let sum = 0;
          for (let i = 0; i < T; i++) sum += ds[i * T + j] * q[(b * T + i) * C + h * HS + d];
          dk[(b * T + j) * C + h * HS + d] = sum * scale;
        }
      }
    }
  }
}

/** attentionScores then attentionContext. */
export function attentionForward(
  out: Vec,
  att: Vec,
  q: Vec,
  k: Vec,
  v: Vec,
  maskAdd: Vec,
  dims: AttentionDims,
): void {
  attentionScores(att, q, k, maskAdd, dims);
  attentionContext(out, att, v, dims);
}

/** Backward of attentionForward; overwrites dq, dk, dv. */
export function attentionBackward(
  dq: Vec,
  dk: Vec,
  dv: Vec,
  dout: Vec,
  q: Vec,
  k: Vec,
  v: Vec,
  att: Vec,
  dims: AttentionDims,
): void {
  const { B, T, NH } = dims;
  const datt = new Float64Array(B * NH * T * T);
  attentionContextBackward(datt, dv, dout, att, v, dims);
  attentionScoresBackward(dq, dk, datt, att, q, k, dims);
}
