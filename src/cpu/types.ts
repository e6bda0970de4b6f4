/** CPU references accept f32 (to compare with the GPU) or f64 (for finite differences). */
export type Vec = Float32Array | Float64Array;
