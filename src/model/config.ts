/** The encoder's architecture, in l3mask's own names (HF config.json is mapped onto this). */
export type ModelType = "bert" | "roberta";

export interface ModelConfig {
  modelType: ModelType;
  vocabSize: number; // V
  hidden: number; // C
  layers: number; // L
  heads: number; // NH
  intermediate: number; // 4C for BERT-base
  maxPositions: number; // P
  typeVocabSize: number;
  layerNormEps: number;
  padTokenId: number;
  hiddenDropout: number;
  attentionDropout: number;
  numLabels: number; // classification classes (0: no classification head)
}

export function headSize(cfg: ModelConfig): number {
  if (cfg.hidden % cfg.heads !== 0) {
    throw new Error(
      `hidden size ${cfg.hidden} is not a multiple of the ${cfg.heads} attention heads`,
    );
  }
  return cfg.hidden / cfg.heads;
}

/** Hugging Face weight-name prefix of the encoder. */
export function prefix(cfg: ModelConfig): string {
  return cfg.modelType === "bert" ? "bert" : "roberta";
}

/** Longest sequence the position table allows (RoBERTa positions start after the padding id). */
export function maxSequenceLength(cfg: ModelConfig): number {
  return cfg.maxPositions - (cfg.modelType === "roberta" ? cfg.padTokenId + 1 : 0);
}

/** The default `--max-length` of every command: 128 tokens, or fewer where the positions end. */
export const DEFAULT_MAX_LENGTH = 128;

/**
 * The tokens per text a command runs with: `requested` (an explicit flag or config value) when it
 * fits the model's positions, else `DEFAULT_MAX_LENGTH` capped at what the positions allow.
 * Returns a problem string (for the caller's UserError) when an explicit value does not fit.
 */
export function resolveMaxLength(
  cfg: ModelConfig,
  requested: number | undefined,
): { maxLength: number } | { problem: string } {
  const limit = maxSequenceLength(cfg);
  if (requested === undefined) return { maxLength: Math.min(DEFAULT_MAX_LENGTH, limit) };
  if (requested > limit) {
    return {
      problem: `--max-length ${requested} exceeds the ${limit} tokens the model's positions ` +
        `allow; pass --max-length ${limit} or less (or leave it out)`,
    };
  }
  return { maxLength: requested };
}
