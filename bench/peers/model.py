"""BERT / RoBERTa from the math (SPEC.md section 1), shared by the PyTorch peers of bench/.

The same model as l3mask's src/model/encoder.ts, written with torch.nn.functional ops the way a
public PyTorch implementation (Hugging Face's eager path) runs it: embeddings (word + position +
token type 0) -> LayerNorm -> dropout; post-LN layers (self-attention with an additive -1e9 mask
over padded keys, dropout on the probabilities and both sub-layer outputs, exact erf GELU); the
MLM head (dense -> GELU -> LayerNorm -> decoder tied to the word embeddings + bias) and the
classification heads (RoBERTa: dropout -> dense -> tanh -> dropout -> out_proj on <s>; BERT:
pooler dense -> tanh -> dropout -> classifier on [CLS]).

Parameters are a dict by Hugging Face name in the order of src/model/params.ts, either read from
a checkpoint's model.safetensors (parsed with struct/json, F32/F16/BF16; the benches write one
from l3mask's own parameters, see bench/models.ts, and load it strictly) or drawn at random with
the same shapes (N(0, 0.02^2) matrices, zero biases, unit LayerNorm weights).
"""

import json
import math
import os
import resource
import struct

import numpy as np
import torch
import torch.nn.functional as F

MASK_ADD = -1e9


def read_config(path):
    """config.json -> the small dict this module uses."""
    with open(path, encoding="utf-8") as f:
        c = json.load(f)
    kind = c["model_type"]
    labels = c.get("id2label")
    return {
        "kind": kind,
        "V": c["vocab_size"],
        "C": c["hidden_size"],
        "L": c["num_hidden_layers"],
        "NH": c["num_attention_heads"],
        "I": c["intermediate_size"],
        "P": c["max_position_embeddings"],
        "types": c.get("type_vocab_size", 2 if kind == "bert" else 1),
        "eps": c.get("layer_norm_eps", 1e-12 if kind == "bert" else 1e-5),
        "pad": c.get("pad_token_id", 0 if kind == "bert" else 1),
        "p_hidden": c.get("hidden_dropout_prob", 0.1),
        "p_att": c.get("attention_probs_dropout_prob", 0.1),
        "num_labels": len(labels) if labels else c.get("num_labels", 2),
    }


def names(cfg):
    p = cfg["kind"]
    bert = p == "bert"
    return {
        "wte": f"{p}.embeddings.word_embeddings.weight",
        "wpe": f"{p}.embeddings.position_embeddings.weight",
        "tte": f"{p}.embeddings.token_type_embeddings.weight",
        "emb_ln": f"{p}.embeddings.LayerNorm",
        "layers": [f"{p}.encoder.layer.{i}" for i in range(cfg["L"])],
        "mlm_dense": "cls.predictions.transform.dense" if bert else "lm_head.dense",
        "mlm_ln": "cls.predictions.transform.LayerNorm" if bert else "lm_head.layer_norm",
        "mlm_bias": "cls.predictions.bias" if bert else "lm_head.bias",
        "cls_dense": f"{p}.pooler.dense" if bert else "classifier.dense",
        "cls_out": "classifier" if bert else "classifier.out_proj",
    }


def param_specs(cfg, mlm, classifier):
    """(name, shape, group, decay, init) in the order of src/model/params.ts."""
    n = names(cfg)
    C, I = cfg["C"], cfg["I"]
    specs = []

    def linear(name, out, inp, group):
        specs.append((f"{name}.weight", (out, inp), group, True, "normal"))
        specs.append((f"{name}.bias", (out,), group, False, "zeros"))

    def norm(name, group):
        specs.append((f"{name}.weight", (C,), group, False, "ones"))
        specs.append((f"{name}.bias", (C,), group, False, "zeros"))

    specs.append((n["wte"], (cfg["V"], C), "encoder", True, "normal"))
    specs.append((n["wpe"], (cfg["P"], C), "encoder", True, "normal"))
    specs.append((n["tte"], (cfg["types"], C), "encoder", True, "normal"))
    norm(n["emb_ln"], "encoder")
    for l in n["layers"]:
        for part in ("query", "key", "value"):
            linear(f"{l}.attention.self.{part}", C, C, "encoder")
        linear(f"{l}.attention.output.dense", C, C, "encoder")
        norm(f"{l}.attention.output.LayerNorm", "encoder")
        linear(f"{l}.intermediate.dense", I, C, "encoder")
        linear(f"{l}.output.dense", C, I, "encoder")
        norm(f"{l}.output.LayerNorm", "encoder")
    if mlm:
        linear(n["mlm_dense"], C, C, "encoder")
        norm(n["mlm_ln"], "encoder")
        specs.append((n["mlm_bias"], (cfg["V"],), "encoder", False, "zeros"))
    if classifier:
        linear(n["cls_dense"], C, C, "head")
        linear(n["cls_out"], cfg["num_labels"], C, "head")
    return specs


def random_param(shape, init, gen, std=0.02):
    if init == "zeros":
        return torch.zeros(shape)
    if init == "ones":
        return torch.ones(shape)
    return torch.randn(shape, generator=gen) * std


def random_params(specs, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return {name: random_param(shape, init, gen) for name, shape, _, _, init in specs}


_DTYPES = {"F32": ("<f4", 4), "F16": ("<f2", 2), "BF16": ("<u2", 2)}


def read_safetensors(path, wanted=None):
    """name -> float32 tensor, parsed from the format (u64 header length, JSON header, data).

    Reads one tensor at a time (seek + read into its own array), and only the names in `wanted`
    when given: the file is never held whole, so a roberta-base-sized checkpoint costs this
    process its parameters and nothing more (the benches compare peak memory)."""
    out = {}
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        base = 8 + n
        for name, e in header.items():
            if name == "__metadata__" or (wanted is not None and name not in wanted):
                continue
            dt, size = _DTYPES[e["dtype"]]
            start, end = e["data_offsets"]
            f.seek(base + start)
            a = np.fromfile(f, dtype=dt, count=(end - start) // size)
            if e["dtype"] == "BF16":
                a = (a.astype(np.uint32) << 16).view(np.float32)
            elif e["dtype"] != "F32":
                a = a.astype(np.float32)
            out[name] = torch.from_numpy(a.reshape(e["shape"]))
    return out


def load_params(model_dir, cfg, mlm, classifier, seed=0, strict=False):
    """The checkpoint's tensors where it has them (and the shape fits), random ones otherwise.

    strict: every parameter must be in the file with its shape (the benches hand the peers a
    directory written from l3mask's own parameters, so both sides run identical weights; a
    missing tensor there is a bug, never a silent random fill)."""
    specs = param_specs(cfg, mlm, classifier)
    stored = read_safetensors(os.path.join(model_dir, "model.safetensors"),
                              {name for name, *_ in specs})
    gen = torch.Generator().manual_seed(seed)
    out = {}
    for name, shape, _, _, init in specs:
        t = stored.pop(name, None)
        if t is not None and tuple(t.shape) == tuple(shape):
            out[name] = t
        elif strict:
            got = "missing" if t is None else f"shape {tuple(t.shape)}"
            raise ValueError(f"{model_dir}/model.safetensors: {name} {got}, expected {shape}")
        else:
            out[name] = random_param(shape, init, gen)
    return out


class Model:
    """Forward functions over a parameter dict (autograd tracks whatever requires grad)."""

    def __init__(self, cfg, params):
        self.cfg = cfg
        self.P = params
        self.n = names(cfg)

    def lin(self, name, x):
        return F.linear(x, self.P[f"{name}.weight"], self.P[f"{name}.bias"])

    def ln(self, name, x):
        C = self.cfg["C"]
        return F.layer_norm(x, (C,), self.P[f"{name}.weight"], self.P[f"{name}.bias"],
                            self.cfg["eps"])

    def position_ids(self, ids):
        B, T = ids.shape
        if self.cfg["kind"] == "bert":
            return torch.arange(T).unsqueeze(0).expand(B, T)
        real = (ids != self.cfg["pad"]).long()
        return torch.cumsum(real, dim=1) * real + self.cfg["pad"]

    def hidden(self, ids, mask, train=False, rows=None):
        """Final hidden states (B, T, C) of ids (B, T) with attention mask (B, T) (1 = token).
        With rows (B) (a position per sequence), the last layer computes only those rows (keys
        and values still cover every token) and the result is (B, C)."""
        cfg, P, n = self.cfg, self.P, self.n
        B, T = ids.shape
        C, NH = cfg["C"], cfg["NH"]
        HS = C // NH
        ph, pa = cfg["p_hidden"], cfg["p_att"]
        x = F.embedding(ids, P[n["wte"]]) + F.embedding(self.position_ids(ids), P[n["wpe"]]) + \
            P[n["tte"]][0]
        h = F.dropout(self.ln(n["emb_ln"], x), ph, train)
        add = ((1.0 - mask.to(h.dtype)) * MASK_ADD)[:, None, None, :]  # (B, 1, 1, T) over keys
        scale = 1.0 / math.sqrt(HS)
        for i, l in enumerate(n["layers"]):
            last = rows is not None and i == len(n["layers"]) - 1
            x = h[torch.arange(B), rows][:, None] if last else h  # (B, Tq, C) rows this layer outputs
            Tq = x.shape[1]

            def heads(t, tq):
                return t.view(B, tq, NH, HS).transpose(1, 2)  # (B, NH, tq, HS)

            q = heads(self.lin(f"{l}.attention.self.query", x), Tq)
            k = heads(self.lin(f"{l}.attention.self.key", h), T)
            v = heads(self.lin(f"{l}.attention.self.value", h), T)
            att = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * scale + add, dim=-1)
            att = F.dropout(att, pa, train)
            ctx = torch.matmul(att, v).transpose(1, 2).reshape(B, Tq, C)
            a = F.dropout(self.lin(f"{l}.attention.output.dense", ctx), ph, train)
            h1 = self.ln(f"{l}.attention.output.LayerNorm", a + x)
            f = self.lin(f"{l}.output.dense", F.gelu(self.lin(f"{l}.intermediate.dense", h1)))
            h = self.ln(f"{l}.output.LayerNorm", F.dropout(f, ph, train) + h1)
        return h if rows is None else h[:, 0]

    def mlm_transform(self, rows):
        """(M, C) hidden rows -> the MLM head's normalised features (before the decoder)."""
        n = self.n
        return self.ln(n["mlm_ln"], F.gelu(self.lin(n["mlm_dense"], rows)))

    def mlm_logits(self, rows):
        """(M, C) hidden rows -> (M, V) logits (decoder tied to the word embeddings)."""
        n = self.n
        return F.linear(self.mlm_transform(rows), self.P[n["wte"]], self.P[n["mlm_bias"]])

    def cls_logits(self, hidden, train=False):
        """(B, T, C) -> (B, K) on the first token."""
        n, p = self.n, self.cfg["p_hidden"]
        x = hidden[:, 0]
        if self.cfg["kind"] == "roberta":
            x = F.dropout(x, p, train)
        pooled = torch.tanh(self.lin(n["cls_dense"], x))
        return self.lin(n["cls_out"], F.dropout(pooled, p, train))


def peak_rss_bytes():
    """The process's peak resident set size from getrusage (Linux reports ru_maxrss in KiB).

    Caveat: Linux carries the parent's high-water mark across fork + exec into ru_maxrss, so a
    peer spawned by a large process reports at least the parent's peak. vm_hwm_bytes() is the
    peak of this program's own address space; the benches spawn peers before they allocate.
    """
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def vm_hwm_bytes():
    """Peak RSS of this process image since exec (VmHWM of /proc/self/status), or -1."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return -1


def reset_peak_rss():
    """Restart VmHWM at the current RSS (Linux >= 4.0: "5" to /proc/self/clear_refs), so a peak
    read later belongs to the work after this call. Returns False where that is refused."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
