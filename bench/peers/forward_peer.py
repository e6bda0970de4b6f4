"""PyTorch peer of bench/forward_bench.ts: one inference forward (hidden states only, no MLM
head) of the bench's model, on the given batch, on the CPU.

Reads one JSON object on stdin: {"model_dir", "B", "T", "ids": [B*T], "mask": [B*T], "warmup",
"reps", "threads"}. model_dir is the checkpoint bench/models.ts wrote from l3mask's own
parameters (config.json + F32 model.safetensors, encoder only), loaded strictly, so both sides
run the same weights. Runs `warmup` untimed forwards then `reps` timed ones under
torch.inference_mode(), and prints one JSON object:
{"torch", "threads", "params", "times_s", "finite", "hidden_head" (the final hidden states of
sequence 0's first 8 tokens, flat, for the bench's agreement check), "rss_after_load",
"peak_rss" (getrusage), "vm_hwm"} (bytes). Exit code 3
when torch is missing. Run with Debian's system python (/usr/bin/python3).
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


def main():
    req = json.load(sys.stdin)
    torch.set_num_threads(req.get("threads", 2))
    cfg = M.read_config(f"{req['model_dir']}/config.json")
    B, T = req["B"], req["T"]
    P = M.load_params(req["model_dir"], cfg, mlm=False, classifier=False, strict=True)
    m = M.Model(cfg, P)
    ids = torch.tensor(req["ids"], dtype=torch.long).view(B, T)
    mask = torch.tensor(req["mask"], dtype=torch.long).view(B, T)
    rss_after_load = M.rss_bytes()
    times = []
    with torch.inference_mode():
        for i in range(req["warmup"] + req["reps"]):
            t0 = time.perf_counter()
            h = m.hidden(ids, mask, train=False)
            dt = time.perf_counter() - t0
            if i >= req["warmup"]:
                times.append(dt)
        finite = bool(torch.isfinite(h).all())
        head = h[0, :8].reshape(-1).tolist()  # the first tokens of sequence 0: weights agree?
    print(json.dumps({
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "params": sum(p.numel() for p in P.values()),
        "times_s": times,
        "finite": finite,
        "hidden_head": head,
        "rss_after_load": rss_after_load,
        "peak_rss": M.peak_rss_bytes(),
        "vm_hwm": M.vm_hwm_bytes(),
    }))


if __name__ == "__main__":
    main()
