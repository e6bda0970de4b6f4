"""PyTorch peer of bench/score_bench.ts: PLL-word-l2r token-wise pseudo-likelihood (SPEC.md
section 2) of already-tokenized texts with a fixture model, two ways, on the CPU in float32:

  naive   as public scorers do (minicons-style): one text at a time, all its masked copies in one
          batch, the full (copies, T, V) logits and their log-softmax, then the target entries.
  rows    copies of many texts sorted by length and batched under a token budget (rows x padded
          length), padded keys masked, the MLM head and the vocabulary projection only at each
          copy's target row, a max-subtracted log-sum-exp there.
  kept    l3mask's algorithm: as rows, and the last encoder layer also computes only the target
          row (its keys and values still cover every token).

Reads one JSON object on stdin: {"model_dir", "naive", "texts": [{"ids", "words", "special"}],
"mask_id", "pad_id", "budget_tokens", "max_rows", "warmup_texts", "rounds", "threads"}; model_dir
is the checkpoint bench/models.ts wrote from l3mask's own parameters (loaded strictly), and
"naive": false skips the naive mode (its T x V logits per copy are gigabytes at roberta-base's
vocabulary). Each mode
first scores the first `warmup_texts` texts untimed, then every text `rounds` times, timed. Prints
one JSON object: {"torch", "threads", "naive": {"seconds": [per round], "logp"} | null, "rows":
{"seconds", "logp", "batches"}, "kept": {"seconds", "logp", "batches"}} where logp is per text, per token (null at unscored positions).
Exit code 3 when torch is missing.
"""
import json
import sys
import time

try:
    import torch
except ImportError:
    sys.stderr.write("No module named 'torch'\n")
    sys.exit(3)

import model as M


def scored_positions(special):
    return [i for i, s in enumerate(special) if not s]


def masked_set(pos, words, special):
    """pos and every later position of the same word (PLL-word-l2r), as src/score/copies.ts."""
    w = words[pos]
    out = []
    for j in range(pos, len(words)):
        if words[j] == w and not special[j]:
            out.append(j)
        elif j > pos and words[j] != w:
            break
    return out


def copy_ids(text, pos, mask_id):
    ids = list(text["ids"])
    for j in masked_set(pos, text["words"], text["special"]):
        ids[j] = mask_id
    return ids


def score_naive(m, texts, mask_id):
    out = []
    for t in texts:
        pos = scored_positions(t["special"])
        logp = [None] * len(t["ids"])
        if pos:
            ids = torch.tensor([copy_ids(t, p, mask_id) for p in pos])  # (n, T)
            h = m.hidden(ids, torch.ones_like(ids))  # (n, T, C)
            logits = m.mlm_logits(h)  # (n, T, V): every row of every copy
            lsm = torch.log_softmax(logits, dim=-1)
            idx = torch.arange(len(pos))
            got = lsm[idx, torch.tensor(pos), torch.tensor([t["ids"][p] for p in pos])]
            for p, v in zip(pos, got.tolist()):
                logp[p] = v
        out.append(logp)
    return out


def plan_batches(copies, lengths, budget, max_rows):
    """As src/score/batches.ts: sorted by text length, each batch <= budget tokens and max_rows."""
    copies = sorted(copies, key=lambda c: (lengths[c[0]], c[0], c[1]))
    out, cur, T = [], [], 0
    for c in copies:
        t = max(T, lengths[c[0]])
        if cur and ((len(cur) + 1) * t > budget or len(cur) + 1 > max_rows):
            out.append((T, cur))
            cur = []
        cur.append(c)
        T = lengths[c[0]] if len(cur) == 1 else max(T, lengths[c[0]])
    if cur:
        out.append((T, cur))
    return out


def score_rows(m, texts, mask_id, pad_id, budget, max_rows, kept=False):
    copies = [(i, p) for i, t in enumerate(texts) for p in scored_positions(t["special"])]
    lengths = [len(t["ids"]) for t in texts]
    out = [[None] * n for n in lengths]
    batches = plan_batches(copies, lengths, budget, max_rows)
    C = m.cfg["C"]
    for T, batch in batches:
        B = len(batch)
        ids = torch.full((B, T), pad_id, dtype=torch.long)
        mask = torch.zeros((B, T), dtype=torch.long)
        for b, (i, p) in enumerate(batch):
            row = copy_ids(texts[i], p, mask_id)
            ids[b, :len(row)] = torch.tensor(row)
            mask[b, :len(row)] = 1
        rows = torch.tensor([b * T + p for b, (_, p) in enumerate(batch)])
        targets = torch.tensor([texts[i]["ids"][p] for i, p in batch])
        if kept:
            h = m.hidden(ids, mask, rows=torch.tensor([p for _, p in batch]))  # (B, C)
        else:
            h = m.hidden(ids, mask).reshape(B * T, C)[rows]  # (B, C): the target rows only
        logits = m.mlm_logits(h)  # (B, V)
        mx = logits.max(dim=-1, keepdim=True).values
        lse = (logits - mx).exp().sum(dim=-1).log() + mx[:, 0]
        got = logits.gather(1, targets[:, None])[:, 0] - lse
        for (i, p), v in zip(batch, got.tolist()):
            out[i][p] = v
    return out, len(batches)


def main():
    req = json.load(sys.stdin)
    torch.set_num_threads(req.get("threads", 2))
    cfg = M.read_config(f"{req['model_dir']}/config.json")
    m = M.Model(cfg, M.load_params(req["model_dir"], cfg, mlm=True, classifier=False, strict=True))
    texts = req["texts"]
    warm = texts[:req.get("warmup_texts", 5)]
    mask_id, pad_id = req["mask_id"], req["pad_id"]
    budget, max_rows = req["budget_tokens"], req["max_rows"]
    res = {"torch": torch.__version__, "threads": torch.get_num_threads()}
    rounds = req.get("rounds", 1)
    with torch.inference_mode():
        res["naive"] = None
        if req.get("naive", True):
            score_naive(m, warm, mask_id)
            seconds = []
            for _ in range(rounds):
                t0 = time.perf_counter()
                logp = score_naive(m, texts, mask_id)
                seconds.append(time.perf_counter() - t0)
            res["naive"] = {"seconds": seconds, "logp": logp}
        score_rows(m, warm, mask_id, pad_id, budget, max_rows)
        seconds = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            logp, nb = score_rows(m, texts, mask_id, pad_id, budget, max_rows)
            seconds.append(time.perf_counter() - t0)
        res["rows"] = {"seconds": seconds, "logp": logp, "batches": nb}
        score_rows(m, warm, mask_id, pad_id, budget, max_rows, kept=True)
        seconds = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            logp, nb = score_rows(m, texts, mask_id, pad_id, budget, max_rows, kept=True)
            seconds.append(time.perf_counter() - t0)
        res["kept"] = {"seconds": seconds, "logp": logp, "batches": nb}
    print(json.dumps(res))


if __name__ == "__main__":
    main()
