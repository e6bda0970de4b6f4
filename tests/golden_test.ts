/**
 * The GPU model against PyTorch reference tensors (tests/fixtures/make_golden.py): the tiny BERT
 * and RoBERTa checkpoints loaded from safetensors, final hidden states of a padded batch, MLM
 * log-probabilities at chosen rows, classification logits; and (dropout off, fixed masks) the
 * MLM and classification losses and every parameter gradient.
 */
import assert from "node:assert/strict";
import { Encoder } from "../src/model/encoder.ts";
import { GpuBackend } from "../src/model/gpu_backend.ts";
import {
  gpuStore,
  gpuZerosLike,
  loadCheckpoint,
  readGpuStore,
  releaseGpuStore,
} from "../src/model/weights.ts";
import { FIXTURES, loadGolden, maxRelError, tensor } from "./golden.ts";
import { gpuTest } from "./util.ts";

function flatIds(rows: number[][]): Uint32Array {
  return Uint32Array.from(rows.flat());
}

for (const name of ["tiny-bert", "tiny-roberta"] as const) {
  gpuTest(
    `${name}: hidden states, MLM log-probabilities and logits match PyTorch (rel ≤ 1e-4)`,
    async (ctx) => {
      const g = await loadGolden(name);
      const m = await loadCheckpoint(`${FIXTURES}${name}`, { mlm: true, classifier: true });
      const store = gpuStore(ctx, m.config, m.params);
      const model = new Encoder(new GpuBackend(ctx), m.config, store, {
        mlm: true,
        classifier: true,
      });
      const batch = { B: g.B, T: g.T, ids: flatIds(g.input_ids), mask: flatIds(g.attention_mask) };
      const lp = g.mlm_logprobs;
      const rows = Uint32Array.from(lp.rows as number[]);
      const M = rows.length;
      const pass = model.forward(batch, {
        mlm: { rows, targets: new Uint32Array(M) },
        labels: new Uint32Array(g.B),
        train: false,
        seed: 0,
      });
      const [hidden, logits, lse, clsLogits] = await ctx.readMany([
        pass.hidden,
        pass.mlm!.logits,
        pass.mlm!.lse,
        pass.cls!.logits,
      ]);
      const V = g.V;
      const logprobs = new Float32Array(M * V);
      for (let i = 0; i < M; i++) {
        for (let v = 0; v < V; v++) logprobs[i * V + v] = logits[i * V + v] - lse[i];
      }
      const checks: [string, Float32Array, Float32Array][] = [
        ["hidden", hidden, tensor(g.hidden).data],
        ["MLM log-probabilities", logprobs, tensor(lp).data],
        ["classification logits", clsLogits, tensor(g.cls_logits).data],
      ];
      for (const [what, got, want] of checks) {
        const err = maxRelError(got, want);
        assert.ok(
          err <= 1e-4,
          `${name} ${what}: max relative error ${err.toExponential(2)} > 1e-4`,
        );
      }
      model.releasePass(pass);
      releaseGpuStore(ctx, store);
    },
  );

  gpuTest(
    `${name}: MLM + classification losses and every parameter gradient match PyTorch (rel ≤ 1e-3)`,
    async (ctx) => {
      const g = await loadGolden(name);
      const tr = g.train;
      const m = await loadCheckpoint(`${FIXTURES}${name}`, { mlm: true, classifier: true });
      const store = gpuStore(ctx, m.config, m.params);
      const grads = gpuZerosLike(ctx, m.config, m.params, "grad");
      const model = new Encoder(new GpuBackend(ctx), m.config, store, {
        mlm: true,
        classifier: true,
      });
      const batch = {
        B: g.B,
        T: g.T,
        ids: flatIds(tr.masked_ids),
        mask: flatIds(g.attention_mask),
      };
      const pass = model.forward(batch, {
        mlm: { rows: Uint32Array.from(tr.mlm_rows), targets: Uint32Array.from(tr.mlm_targets) },
        labels: Uint32Array.from(tr.labels),
        train: false,
        seed: 0,
      });
      model.backward(pass, grads, { mlm: 1, cls: 1 });
      const [logp, losses] = await ctx.readMany([pass.mlm!.logp, pass.cls!.losses]);
      const M = tr.mlm_rows.length;
      let mlmLoss = 0;
      for (let i = 0; i < M; i++) mlmLoss -= logp[i] / M;
      let clsLoss = 0;
      for (let b = 0; b < g.B; b++) clsLoss += losses[b] / g.B;
      assert.ok(
        Math.abs(mlmLoss - tr.mlm_loss) <= 1e-4 * Math.abs(tr.mlm_loss),
        `MLM loss ${mlmLoss} vs ${tr.mlm_loss}`,
      );
      assert.ok(
        Math.abs(clsLoss - tr.cls_loss) <= 1e-4 * Math.abs(tr.cls_loss),
        `cls loss ${clsLoss} vs ${tr.cls_loss}`,
      );
      const got = await readGpuStore(ctx, m.config, grads);
      const names = Object.keys(tr.grads);
      assert.equal(names.length, got.size, "one gradient per parameter");
      let globalMax = 0;
      for (const pname of names) {
        for (const x of tensor(tr.grads[pname]).data) {
          globalMax = Math.max(globalMax, Math.abs(x));
        }
      }
      for (const pname of names) {
        const want = tensor(tr.grads[pname]).data;
        if (pname.endsWith("attention.self.key.bias")) {
          // Softmax is invariant to a per-row constant, so this gradient is exactly 0: PyTorch's is
          // f64 rounding noise; ours must be f32 rounding noise relative to the other gradients.
          let worst = 0;
          for (const x of got.get(pname)!) worst = Math.max(worst, Math.abs(x));
          assert.ok(
            worst <= 1e-6 * globalMax,
            `${name} ${pname}: ${worst} is not ~0 (largest gradient ${globalMax})`,
          );
          continue;
        }
        const err = maxRelError(got.get(pname)!, want);
        assert.ok(
          err <= 1e-3,
          `${name} grad ${pname}: max relative error ${err.toExponential(2)} > 1e-3`,
        );
      }
      model.releasePass(pass);
      releaseGpuStore(ctx, store);
      releaseGpuStore(ctx, grads);
    },
  );
}
