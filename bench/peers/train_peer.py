"""PyTorch peer of bench/train_bench.ts: optimizer steps of the tiny fixture model, the same work
as l3mask's Trainer.step (SPEC.md section 5), on the CPU in float32.

  mtl (fixed weighting 1/2): the classification loss on the primary batch -> g_prim (encoder +
      classifier); the MLM loss on a freshly masked MLM batch (each scored token selected with
      probability pbar; 80% mask id / 10% random non-special id / 10% unchanged; cross-entropy at
      the selected rows only, decoder tied to the word embeddings) -> g_mlm (encoder + MLM head);
      shared encoder gradient = 1/2 g_prim + 1/2 g_mlm, the MLM head gets g_mlm, the classifier
      g_prim; each group (encoder incl. MLM head; classifier) clipped to global norm 1; AdamW
      (encoder lr 1e-4, wd 0.01 except biases and LayerNorm weights; classifier lr 1e-3, wd 0.1;
      betas (0.9, 0.98), eps 1e-6) under the linear warm-up/decay schedule; the losses read back.
  stl: the classification part alone.

Dropout 0.1 is on (training). Reads one JSON object on stdin: {"model_dir", "num_labels",
"primary": {"ids", "special", "labels"}, "mlm": {"ids", "special"}, "mask_id", "random_ids",
"pbar", "warmup", "steps", "total_steps", "warmup_ratio", "modes", "threads", "seed"}; ids are
(B, T) lists without padding. Prints one JSON object {"torch", "threads", "<mode>": {"times_s",
"loss_cls", "loss_mlm", "mlm_rows"}}. Exit code 3 when torch is missing.
"""
import json
import sys
import time

try:
    import torch
except ImportError:
    sys.stderr.write("No module named 'torch'\n")
    sys.exit(3)

import torch.nn.functional as F

import model as M


def linear_schedule(step, total, warmup):
    """As src/train/schedule.ts (transformers' get_linear_schedule_with_warmup)."""
    if step < warmup:
        return step / max(1, warmup)
    return max(0.0, (total - step) / max(1, total - warmup))


def adamw(params, specs, lr, wd):
    decay = [params[n] for n, _, _, d, _ in specs if d]
    no_decay = [params[n] for n, _, _, d, _ in specs if not d]
    return torch.optim.AdamW([{"params": decay, "weight_decay": wd},
                              {"params": no_decay, "weight_decay": 0.0}],
                             lr=lr, betas=(0.9, 0.98), eps=1e-6)


class Step:
    def __init__(self, req, mode):
        self.mode = mode
        cfg = M.read_config(f"{req['model_dir']}/config.json")
        cfg["num_labels"] = req["num_labels"]
        self.cfg = cfg
        mtl = mode == "mtl"
        specs = M.param_specs(cfg, mlm=mtl, classifier=True)
        P = M.load_params(req["model_dir"], cfg, mlm=mtl, classifier=True, seed=req.get("seed", 0))
        for p in P.values():
            p.requires_grad_(True)
        self.P = P
        self.m = M.Model(cfg, P)
        n = M.names(cfg)
        mlm_head = {f"{n['mlm_dense']}.weight", f"{n['mlm_dense']}.bias", f"{n['mlm_ln']}.weight",
                    f"{n['mlm_ln']}.bias", n["mlm_bias"]} if mtl else set()
        self.enc_specs = [s for s in specs if s[2] == "encoder"]
        self.head_specs = [s for s in specs if s[2] == "head"]
        self.shared = [s[0] for s in self.enc_specs if s[0] not in mlm_head]
        self.mlm_head = [s[0] for s in self.enc_specs if s[0] in mlm_head]
        self.head = [s[0] for s in self.head_specs]
        self.opt_enc = adamw(P, self.enc_specs, 1e-4, 0.01)
        self.opt_head = adamw(P, self.head_specs, 1e-3, 0.1)
        self.total = req["total_steps"]
        self.warm = round(req["warmup_ratio"] * self.total)
        self.step_index = 0
        self.gen = torch.Generator().manual_seed(req.get("seed", 0))
        pr = req["primary"]
        self.p_ids = torch.tensor(pr["ids"], dtype=torch.long)
        self.p_mask = torch.ones_like(self.p_ids)
        self.labels = torch.tensor(pr["labels"], dtype=torch.long)
        if mtl:
            ml = req["mlm"]
            self.m_ids = torch.tensor(ml["ids"], dtype=torch.long)
            self.m_mask = torch.ones_like(self.m_ids)
            self.m_scored = ~torch.tensor(ml["special"], dtype=torch.bool)
            self.random_ids = torch.tensor(req["random_ids"], dtype=torch.long)
            self.mask_id = req["mask_id"]
            self.pbar = req["pbar"]

    def mask_batch(self):
        """Fresh RTM masks: (masked ids, flat rows, targets)."""
        ids = self.m_ids
        u = torch.rand(ids.shape, generator=self.gen)
        sel = (u < self.pbar) & self.m_scored
        if not bool(sel.any()):
            sel.view(-1)[int(torch.nonzero(self.m_scored.view(-1))[0])] = True
        kind = torch.rand(ids.shape, generator=self.gen)
        rnd = self.random_ids[torch.randint(len(self.random_ids), ids.shape, generator=self.gen)]
        masked = torch.where(sel & (kind < 0.8), torch.full_like(ids, self.mask_id), ids)
        masked = torch.where(sel & (kind >= 0.8) & (kind < 0.9), rnd, masked)
        rows = torch.nonzero(sel.view(-1))[:, 0]
        return masked, rows, ids.view(-1)[rows]

    def grads(self, loss, names):
        g = torch.autograd.grad(loss, [self.P[n] for n in names], allow_unused=True)
        return {n: (x if x is not None else torch.zeros_like(self.P[n])) for n, x in zip(names, g)}

    def __call__(self):
        m, P = self.m, self.P
        # 1. primary task -> g_prim (shared encoder + classifier)
        h = m.hidden(self.p_ids, self.p_mask, train=True)
        loss_cls = F.cross_entropy(m.cls_logits(h, train=True), self.labels)
        g_prim = self.grads(loss_cls, self.shared + self.head)
        loss_mlm, rows = None, 0
        if self.mode == "mtl":
            # 2. auxiliary MLM task -> g_mlm (shared encoder + MLM head)
            masked, sel_rows, targets = self.mask_batch()
            h = m.hidden(masked, self.m_mask, train=True)
            sel = h.reshape(-1, self.cfg["C"])[sel_rows]
            loss_mlm = F.cross_entropy(m.mlm_logits(sel), targets)
            g_mlm = self.grads(loss_mlm, self.shared + self.mlm_head)
            rows = len(sel_rows)
            # 3. fixed weights 1/K; the heads get their own task's gradient
            for n in self.shared:
                P[n].grad = 0.5 * g_prim[n] + 0.5 * g_mlm[n]
            for n in self.mlm_head:
                P[n].grad = g_mlm[n]
        else:
            for n in self.shared:
                P[n].grad = g_prim[n]
        for n in self.head:
            P[n].grad = g_prim[n]
        # 4. clip each group to global norm 1, schedule, AdamW
        torch.nn.utils.clip_grad_norm_([P[s[0]] for s in self.enc_specs], 1.0)
        torch.nn.utils.clip_grad_norm_([P[s[0]] for s in self.head_specs], 1.0)
        scale = linear_schedule(self.step_index, self.total, self.warm)
        for g in self.opt_enc.param_groups:
            g["lr"] = 1e-4 * scale
        for g in self.opt_head.param_groups:
            g["lr"] = 1e-3 * scale
        self.opt_enc.step()
        self.opt_head.step()
        self.step_index += 1
        return float(loss_cls), None if loss_mlm is None else float(loss_mlm), rows


def main():
    req = json.load(sys.stdin)
    torch.set_num_threads(req.get("threads", 2))
    torch.manual_seed(req.get("seed", 0))  # dropout draws
    res = {"torch": torch.__version__, "threads": torch.get_num_threads()}
    for mode in req["modes"]:
        step = Step(req, mode)
        times, first = [], None
        for i in range(req["warmup"] + req["steps"]):
            t0 = time.perf_counter()
            out = step()
            dt = time.perf_counter() - t0
            if first is None:
                first = out
            if i >= req["warmup"]:
                times.append(dt)
        res[mode] = {"times_s": times, "loss_cls": first[0], "loss_mlm": first[1],
                     "mlm_rows": first[2]}
    print(json.dumps(res))


if __name__ == "__main__":
    main()
