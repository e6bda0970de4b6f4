/**
 * A masked-LM run (`pretrain`, `adapt`) in its run directory: the held-out split, the trainer,
 * resume from state/, metrics.jsonl, and at every save point the Hugging Face checkpoint in the
 * run directory itself (next to the tokenizer) and state/.
 */
import { UserError } from "../errors.ts";
import { openDevice } from "../gpu/context.ts";
import type { L3Tokenizer } from "../io/tokenizer.ts";
import type { Example } from "../data/examples.ts";
import type { ModelConfig } from "../model/config.ts";
import { paramSpecs } from "../model/params.ts";
import type { HostParams } from "../model/weights.ts";
import { SHUFFLE, shuffled } from "../random/streams.ts";
import type { MlmRecord } from "../run/records.ts";
import type { RunDir } from "../run/run_dir.ts";
import { MlmTrainer, runMlm } from "./mlm.ts";

/** The held-out texts: a seeded `fraction` of them (at least one). */
export function splitHeldout(
  exs: Example[],
  fraction: number,
  seed: number,
): { train: Example[]; heldout: Example[] } {
  const order = shuffled(exs.length, seed, SHUFFLE.pretrainSplit, 0);
  const n = Math.max(1, Math.round(exs.length * fraction));
  const held = new Set(order.slice(0, n));
  return { train: exs.filter((_, i) => !held.has(i)), heldout: exs.filter((_, i) => held.has(i)) };
}

/** Trains `host` on `exs` in `run`, or continues the run's state with `resume`. */
export async function runMlmJob(
  run: RunDir<MlmRecord>,
  cfg: ModelConfig,
  host: HostParams,
  tok: L3Tokenizer,
  tokenizerJson: Uint8Array,
  exs: Example[],
  s: ConstructorParameters<typeof MlmTrainer>[4],
  heldoutFraction: number,
  resume: boolean,
  extraConfig: Record<string, unknown>,
  /** Stop after this step (default: the schedule's last). */
  until?: number,
): Promise<void> {
  const { train, heldout } = splitHeldout(exs, heldoutFraction, s.seed);
  const ctx = await openDevice();
  const tr = new MlmTrainer(ctx, cfg, host, tok, s);
  let keep: ((lines: string[]) => string[]) | undefined;
  if (resume) {
    const st = await run.loadState<{ step: number }>();
    if (!st) throw new UserError(`${run.path}: nothing to resume (no state/)`);
    tr.restore(st.state.step, st.params, st.moments.m, st.moments.v);
    keep = (lines) => lines.filter((l) => JSON.parse(l).step <= st.state.step);
    console.error(`resuming at step ${st.state.step}`);
    if (until !== undefined && st.state.step >= until) {
      throw new UserError(
        `${run.path}: state/ is at step ${st.state.step}, already at --until ${until}; raise --until`,
      );
    }
  }
  await Deno.mkdir(run.path, { recursive: true });
  await run.openMetrics(keep);
  console.error(
    `${train.length} training texts, ${heldout.length} held out; ${
      paramSpecs(cfg, { mlm: true, classifier: false }).reduce((n, p) =>
        n + p.shape.reduce((a, b) => a * b, 1), 0)
    } parameters`,
  );
  const heads = { mlm: true, classifier: false };
  const result = await runMlm(
    tr,
    train,
    heldout,
    (r) => run.log(r),
    async () => {
      await run.saveModel(".", {
        cfg: { ...cfg, numLabels: 0 },
        params: await tr.readParams(),
        heads,
        hf: { head: "mlm" },
        extraConfig,
        tokenizerJson,
      });
      await run.saveState(tr, { step: tr.step });
    },
    false,
    until,
  );
  run.closeMetrics();
  ctx.destroy();
  console.log(
    `held-out MLM loss ${result.heldoutLoss.toFixed(4)}, perplexity ${
      Math.exp(result.heldoutLoss).toFixed(1)
    } ` +
      `(vocabulary ${cfg.vocabSize}); ${tr.step} steps in ${
        result.seconds.toFixed(0)
      }s; model in ${run.path}`,
  );
}
