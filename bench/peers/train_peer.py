"""PyTorch peer of bench/train_bench.ts: optimizer steps of the bench's model, the same work as
l3mask's Trainer.step (SPEC.md section 5), on the CPU in float32.

  mtl: the classification loss on the primary batch -> g_prim (encoder + classifier); the MLM
      loss on a freshly masked MLM batch (each scored token selected with probability pbar; 80%
      mask id / 10% random non-special id / 10% unchanged; cross-entropy at the selected rows
      only, decoder tied to the word embeddings) -> g_mlm (encoder + MLM head); task weights:
        fixed  1/2 each;
        meta   META-TARTAN: a fresh classification head (the primary architecture, N(0, 0.02)
               weights, seeded per step) trained for up to dev_head.steps AdamW steps (betas
               (0.9, 0.999), eps 1e-8, dropout on, stop once |loss - previous loss| < tol) on
               encoder features of the dev examples cached once (encoder frozen, dropout off);
               g_dev = the gradient of that head's loss on a dev sample (dropout off) w.r.t. the
               shared encoder; each task's logit += meta_lr * cos(g_dev, g_k), the cosine over
               the shared encoder parameters as one flat vector; weights softmax(logits);
      shared encoder gradient = w_cls g_prim + w_mlm g_mlm (in place), the MLM head gets g_mlm, the
      classifier g_prim; each group (encoder incl. MLM head; classifier) clipped to its global
      norm; AdamW (decay on weights, not on biases and LayerNorm weights) under the linear
      warm-up/decay schedule; the losses read back.
  stl: the classification part alone.

Dropout is on (training). The parameters come from model_dir, the checkpoint bench/models.ts
wrote from l3mask's own parameters, loaded strictly, so both sides start from the same weights.

Reads one JSON object on stdin: {"model_dir", "primary": {"ids", "special", "labels"}, "mlm":
{"ids", "special"}, "dev": {"ids", "special", "labels"} | null, "mask_id", "random_ids", "pbar",
"weighting", "meta_lr", "dev_head": {"steps", "lr", "weight_decay", "tol"}, "encoder" and
"head": {"lr", "weight_decay", "betas", "eps", "clip"}, "warmup", "steps", "total_steps",
"warmup_ratio", "modes", "threads", "seed"}; ids are (B, T) lists without padding. Prints one
JSON object {"torch", "threads", "modes": {"<mode>": {"times_s", "loss_cls", "loss_mlm",
"mlm_rows", "weights", "cosines", "dev_steps" (the first step's), "rss_after_load", "vm_hwm",
"hwm_reset"}}}: vm_hwm is the peak RSS from the mode's parameter load to its last step (VmHWM,
reset before the load when hwm_reset). Exit code 3 when torch is missing.
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
    """As src/optim/schedule.ts (transformers' get_linear_schedule_with_warmup)."""
    if step < warmup:
        return step / max(1, warmup)
    return max(0.0, (total - step) / max(1, total - warmup))


def adamw(params, specs, g, betas=None, eps=None):
    decay = [params[n] for n, _, _, d, _ in specs if d]
    no_decay = [params[n] for n, _, _, d, _ in specs if not d]
    return torch.optim.AdamW([{"params": decay, "weight_decay": g["weight_decay"]},
                              {"params": no_decay, "weight_decay": 0.0}],
                             lr=g["lr"], betas=tuple(betas or g["betas"]), eps=eps or g["eps"])


def flat_cosine(a, b, names):
    """cos(a, b) of two gradients over `names` taken as one flat vector (float64 sums)."""
    dot = na = nb = 0.0
    for n in names:
        x, y = a[n].reshape(-1), b[n].reshape(-1)
        dot += float(torch.dot(x, y))
        na += float(torch.dot(x, x))
        nb += float(torch.dot(y, y))
    return dot / max((na * nb) ** 0.5, 1e-30)


def examples(d):
    ids = torch.tensor(d["ids"], dtype=torch.long)
    return ids, torch.ones_like(ids), torch.tensor(d["labels"], dtype=torch.long)


class Step:
    def __init__(self, req, mode):
        self.mode = mode
        cfg = M.read_config(f"{req['model_dir']}/config.json")
        self.cfg = cfg
        mtl = mode == "mtl"
        self.meta = mtl and req.get("weighting", "fixed") == "meta"
        specs = M.param_specs(cfg, mlm=mtl, classifier=True)
        P = M.load_params(req["model_dir"], cfg, mlm=mtl, classifier=True, strict=True)
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
        self.enc, self.hd = req["encoder"], req["head"]
        self.opt_enc = adamw(P, self.enc_specs, self.enc)
        self.opt_head = adamw(P, self.head_specs, self.hd)
        self.total = req["total_steps"]
        self.warm = round(req["warmup_ratio"] * self.total)
        self.step_index = 0
        self.seed = req.get("seed", 0)
        self.gen = torch.Generator().manual_seed(self.seed)
        self.p_ids, self.p_mask, self.labels = examples(req["primary"])
        self.logits = [0.5, 0.5]  # META-TARTAN's task logits (cls, mlm), start 1/K
        if mtl:
            ml = req["mlm"]
            self.m_ids = torch.tensor(ml["ids"], dtype=torch.long)
            self.m_mask = torch.ones_like(self.m_ids)
            self.m_scored = ~torch.tensor(ml["special"], dtype=torch.bool)
            self.random_ids = torch.tensor(req["random_ids"], dtype=torch.long)
            self.mask_id = req["mask_id"]
            self.pbar = req["pbar"]
        if self.meta:
            self.d_ids, self.d_mask, self.d_labels = examples(req["dev"])
            self.dev_head = req["dev_head"]
            self.meta_lr = req["meta_lr"]

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

    def grads(self, loss, names, params=None):
        P = params or self.P
        g = torch.autograd.grad(loss, [P[n] for n in names], allow_unused=True)
        return {n: (x if x is not None else torch.zeros_like(P[n])) for n, x in zip(names, g)}

    def dev_gradient(self):
        """META-TARTAN's dev head (SPEC section 5 step 3): (g_dev over the shared encoder, steps)."""
        d = self.dev_head
        gen = torch.Generator().manual_seed(self.seed + 7919 * (self.step_index + 1))
        head = {name: M.random_param(shape, init, gen).requires_grad_(True)
                for name, shape, _, _, init in self.head_specs}
        dev = M.Model(self.cfg, {**self.P, **head})  # the encoder's tensors, a fresh head
        with torch.no_grad():  # cached features: encoder frozen, dropout off
            feats = dev.hidden(self.d_ids, self.d_mask, train=False)[:, :1]  # (B, 1, C)
        opt = adamw(head, self.head_specs, {"lr": d["lr"], "weight_decay": d["weight_decay"]},
                    betas=(0.9, 0.999), eps=1e-8)
        prev, steps = float("inf"), 0
        while steps < d["steps"]:
            loss = F.cross_entropy(dev.cls_logits(feats, train=True), self.d_labels)
            g = self.grads(loss, self.head, head)
            for n in self.head:
                head[n].grad = g[n]
            opt.step()
            steps += 1
            value = float(loss)
            if abs(prev - value) < d["tol"]:
                break
            prev = value
        h = dev.hidden(self.d_ids, self.d_mask, train=False)
        loss = F.cross_entropy(dev.cls_logits(h, train=False), self.d_labels)
        return self.grads(loss, self.shared), steps

    def __call__(self):
        m, P = self.m, self.P
        # 1. primary task -> g_prim (shared encoder + classifier)
        h = m.hidden(self.p_ids, self.p_mask, train=True)
        loss_cls = F.cross_entropy(m.cls_logits(h, train=True), self.labels)
        g_prim = self.grads(loss_cls, self.shared + self.head)
        del h
        loss_mlm, rows, weights, cosines, dev_steps = None, 0, None, None, None
        if self.mode == "mtl":
            # 2. auxiliary MLM task -> g_mlm (shared encoder + MLM head)
            masked, sel_rows, targets = self.mask_batch()
            h = m.hidden(masked, self.m_mask, train=True)
            sel = h.reshape(-1, self.cfg["C"])[sel_rows]
            loss_mlm = F.cross_entropy(m.mlm_logits(sel), targets)
            g_mlm = self.grads(loss_mlm, self.shared + self.mlm_head)
            del h, sel
            rows = len(sel_rows)
            # 3. task weights: fixed 1/K, or META-TARTAN's from the dev gradient
            if self.meta:
                g_dev, dev_steps = self.dev_gradient()
                cosines = [flat_cosine(g_dev, g_prim, self.shared),
                           flat_cosine(g_dev, g_mlm, self.shared)]
                del g_dev
                self.logits = [lg + self.meta_lr * c for lg, c in zip(self.logits, cosines)]
            e = [torch.exp(torch.tensor(lg - max(self.logits), dtype=torch.float64))
                 for lg in self.logits]
            weights = [float(x / (e[0] + e[1])) for x in e]
            # the heads get their own task's gradient
            for n in self.shared:
                P[n].grad = g_prim[n].mul_(weights[0]).add_(g_mlm[n], alpha=weights[1])
            for n in self.mlm_head:
                P[n].grad = g_mlm[n]
            del g_mlm
        else:
            for n in self.shared:
                P[n].grad = g_prim[n]
        for n in self.head:
            P[n].grad = g_prim[n]
        del g_prim
        # 4. clip each group to its global norm, schedule, AdamW
        torch.nn.utils.clip_grad_norm_([P[s[0]] for s in self.enc_specs], self.enc["clip"])
        torch.nn.utils.clip_grad_norm_([P[s[0]] for s in self.head_specs], self.hd["clip"])
        scale = linear_schedule(self.step_index, self.total, self.warm)
        for g in self.opt_enc.param_groups:
            g["lr"] = self.enc["lr"] * scale
        for g in self.opt_head.param_groups:
            g["lr"] = self.hd["lr"] * scale
        self.opt_enc.step()
        self.opt_head.step()
        for p in P.values():
            p.grad = None
        self.step_index += 1
        return {"loss_cls": float(loss_cls),
                "loss_mlm": None if loss_mlm is None else float(loss_mlm),
                "mlm_rows": rows, "weights": weights, "cosines": cosines, "dev_steps": dev_steps}


def main():
    req = json.load(sys.stdin)
    torch.set_num_threads(req.get("threads", 2))
    torch.manual_seed(req.get("seed", 0))  # dropout draws
    res = {"torch": torch.__version__, "threads": torch.get_num_threads(), "modes": {}}
    for mode in req["modes"]:
        hwm_reset = M.reset_peak_rss()
        step = Step(req, mode)
        rss_after_load = M.rss_bytes()
        times, first = [], None
        for i in range(req["warmup"] + req["steps"]):
            t0 = time.perf_counter()
            out = step()
            dt = time.perf_counter() - t0
            if first is None:
                first = out
            if i >= req["warmup"]:
                times.append(dt)
        res["modes"][mode] = {**first, "times_s": times, "rss_after_load": rss_after_load,
                              "vm_hwm": M.vm_hwm_bytes(), "hwm_reset": hwm_reset}
        del step
    print(json.dumps(res))


if __name__ == "__main__":
    main()
