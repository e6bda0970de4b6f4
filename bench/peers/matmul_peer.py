"""PyTorch peer of bench/matmul_bench.ts: the linear layer's three matmuls on the CPU, in f32.

For each shape M,K,N given on the command line (default: the two BERT-base shapes) it times
  forward          y = x @ w.T + b      (torch.addmm into a preallocated y)
  backward_input   dx = dy @ w          (torch.mm into a preallocated dx)
  backward_weight  dw += dy.T @ x       (torch.addmm accumulating into dw, like the kernels)
with torch.set_num_threads(2) (override: --threads N), --reps timed calls after one warm-up, and
prints one JSON object on its last stdout line:
  {"torch": version, "threads": n, "results": [{"M","K","N","op","ms","gflops","cpu_ms"}, ...]}
with the median wall time of each and the median CPU time of this process (all threads) per call. Exit code 3 when torch is not importable.
Run with Debian's system python: /usr/bin/python3 (python3-torch).
"""
import json
import statistics
import sys
import time

try:
    import torch
except ImportError as e:  # the TS bench reports the peer as unavailable
    print(f"matmul_peer: {e}", file=sys.stderr)
    sys.exit(3)


def flag(name, default):
    return int(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


def median_seconds(fn, reps):
    """Median wall and CPU (all threads) seconds of one call."""
    fn()  # warm-up: thread pool start, first-touch of the outputs
    wall, cpu = [], []
    for _ in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def main():
    torch.set_num_threads(flag("--threads", 2))
    reps = flag("--reps", 5)
    shapes = [a for a in sys.argv[1:] if a.count(",") == 2] or ["8192,768,768", "8192,768,3072"]
    torch.manual_seed(0)
    results = []
    with torch.no_grad():
        for s in shapes:
            M, K, N = (int(v) for v in s.split(","))
            x, w, b, dy = torch.randn(M, K), torch.randn(N, K), torch.randn(N), torch.randn(M, N)
            y, dx, dw = torch.empty(M, N), torch.empty(M, K), torch.zeros(N, K)
            ops = {
                "forward": lambda: torch.addmm(b, x, w.t(), out=y),
                "backward_input": lambda: torch.mm(dy, w, out=dx),
                "backward_weight": lambda: torch.addmm(dw, dy.t(), x, out=dw),
            }
            for op, fn in ops.items():
                sec, cpu = median_seconds(fn, reps)
                flop = 2.0 * M * K * N
                results.append({"M": M, "K": K, "N": N, "op": op, "ms": sec * 1e3,
                                "gflops": flop / sec / 1e9, "cpu_ms": cpu * 1e3})
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(),
                      "results": results}))


if __name__ == "__main__":
    main()
