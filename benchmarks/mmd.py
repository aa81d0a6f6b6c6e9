"""MMD^2 benchmark: divkit's matrix-free numba kernels against a dense numpy/scipy reference.

Problem: d = 16, Gaussian kernel (sigma = 4, about the median heuristic for this data),
unbiased estimator, n = m in {1000, 4000, 16000} (``--quick``: {500, 1000, 2000}), with one
and with two threads. Each (threads, n) configuration runs in a fresh subprocess so thread
settings take effect before numpy/numba load:

* time: divkit and the reference are interleaved over several rounds in the same process and
  compared by the median of per-round ratios (machines are shared and noisy);
* memory: peak extra resident memory of one call, in its own subprocess (the kernel's peak
  RSS counter is reset after warm-up, then ``VmHWM - VmRSS(before)`` is reported);
* permutations: ``mmd_test`` with 1000 permutations at n = m = 2000, d = 16 (quick: 200 at
  n = m = 500), median of 3 runs.

The reference is the readable dense formula users write with scipy:
``np.exp(-cdist(a, b, "sqeuclidean") / (2 sigma^2))`` for the three blocks, diagonal removed.

Usage: ``python benchmarks/mmd.py [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DIM = 16
SIGMA = 4.0


def reference_mmd2(X, Y, sigma):
    import numpy as np
    from scipy.spatial.distance import cdist

    n, m = len(X), len(Y)

    def gram_sum(A, B):
        return np.exp(-cdist(A, B, "sqeuclidean") / (2 * sigma**2)).sum()

    return ((gram_sum(X, X) - n) / (n * (n - 1)) + (gram_sum(Y, Y) - m) / (m * (m - 1))
            - 2 * gram_sum(X, Y) / (n * m))


def data(n, seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, DIM)), rng.normal(size=(n, DIM)) + 0.05


def _status_kib(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(field)


def child_time(n, repeats):
    import statistics
    import time

    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(ROOT))
    from _harness import interleaved, median_ratio

    from divkit import mmd2

    X, Y = data(n)
    mmd2(X[:300], Y[:300], bandwidth=SIGMA)  # compile / load the cached kernels
    warmup = n <= 4000
    cpu = {"divkit": [], "numpy": []}

    def with_cpu_time(name, fn):
        # CPU seconds of this process: unlike wall time, blind to time spent descheduled on a
        # shared machine (single-threaded runs only: with 2 threads it sums both)
        def run():
            c0 = time.process_time()
            value = fn()
            cpu[name].append(time.process_time() - c0)
            return value

        return run

    res = interleaved({
        "divkit": with_cpu_time("divkit", lambda: mmd2(X, Y, bandwidth=SIGMA)),
        "numpy": with_cpu_time("numpy", lambda: reference_mmd2(X, Y, SIGMA)),
    }, repeats=repeats, warmup=warmup)
    if warmup:
        cpu = {k: v[1:] for k, v in cpu.items()}
    return {
        "divkit_s": res["divkit"]["median"], "numpy_s": res["numpy"]["median"],
        "divkit_times": res["divkit"]["times"], "numpy_times": res["numpy"]["times"],
        "speedup": median_ratio(res, "numpy", "divkit"),
        "divkit_cpu_s": statistics.median(cpu["divkit"]),
        "numpy_cpu_s": statistics.median(cpu["numpy"]),
        "cpu_speedup": statistics.median(a / b for a, b in zip(cpu["numpy"], cpu["divkit"])),
        "abs_diff": abs(res["divkit"]["value"] - res["numpy"]["value"]),
        "value": res["divkit"]["value"],
    }


def child_memory(n, impl):
    sys.path.insert(0, str(ROOT))
    from divkit import mmd2

    X, Y = data(n)
    mmd2(X[:600], Y[:600], bandwidth=SIGMA)  # compile / load, touch the thread pool
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak-RSS counter
    before = _status_kib("VmRSS")
    if impl == "divkit":
        mmd2(X, Y, bandwidth=SIGMA)
    else:
        reference_mmd2(X, Y, SIGMA)
    return {"peak_extra_mib": (_status_kib("VmHWM") - before) / 1024.0}


def child_permutations(n, n_permutations):
    import time

    sys.path.insert(0, str(ROOT))
    from divkit import mmd_test

    X, Y = data(n, seed=1)
    mmd_test(X[:50], Y[:50], bandwidth=SIGMA, n_permutations=10, rng=0)
    Path("/proc/self/clear_refs").write_text("5")
    before = _status_kib("VmRSS")
    times = []
    for _ in range(3):  # median of 3: the shared machine is noisy
        t0 = time.perf_counter()
        res = mmd_test(X, Y, bandwidth=SIGMA, n_permutations=n_permutations, rng=0)
        times.append(time.perf_counter() - t0)
    return {"seconds": sorted(times)[1], "times": times, "p_value": res.p_value,
            "statistic": res.statistic,
            "peak_extra_mib": (_status_kib("VmHWM") - before) / 1024.0}


def run_child(threads, *args):
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        env[var] = str(threads)
    # the GEMM blocks inside divkit's kernels are small: parallelism comes from numba threads
    env["OPENBLAS_NUM_THREADS"] = "1"
    # GNU OpenMP workers spin between parallel regions by default; on an oversubscribed shared
    # machine that steals the core the main thread needs (measured: 2 threads 8x slower than 1
    # at n=1000). Passive waiting is what a shared machine needs; the choice is reported.
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    out = subprocess.run([sys.executable, __file__, "--child", *map(str, args)], env=env,
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "time":
            result = child_time(int(rest[0]), int(rest[1]))
        elif kind == "memory":
            result = child_memory(int(rest[0]), rest[1])
        else:
            result = child_permutations(int(rest[0]), int(rest[1]))
        print(json.dumps(result))
        return

    sys.path.insert(0, str(HERE))
    from _harness import print_table, write_json

    sizes = [500, 1000, 2000] if args.quick else [1000, 4000, 16000]
    rows = []
    for threads in (1, 2):
        for n in sizes:
            repeats = 3 if n >= 16000 else 5
            rec = {"threads": threads, "n": n, **run_child(threads, "time", n, repeats)}
            rows.append(rec)
            print(f"threads={threads} n={n}: divkit {rec['divkit_s']:.3f} s, numpy "
                  f"{rec['numpy_s']:.3f} s, speedup {rec['speedup']:.1f}x (CPU time "
                  f"{rec['cpu_speedup']:.1f}x)", flush=True)
    memory = []
    for n in sizes:
        mem = {"n": n, "threads": 1}
        for impl in ("divkit", "numpy"):
            mem[f"{impl}_peak_extra_mib"] = run_child(1, "memory", n, impl)["peak_extra_mib"]
        memory.append(mem)
    n_perm, perm_n = (200, 500) if args.quick else (1000, 2000)
    perms = [{"threads": t, "n": perm_n, "n_permutations": n_perm,
              **run_child(t, "perm", perm_n, n_perm)} for t in (1, 2)]

    print_table(rows, ["threads", "n", "divkit_s", "numpy_s", "speedup", "divkit_cpu_s",
                       "numpy_cpu_s", "cpu_speedup", "abs_diff"],
                title=f"\nMMD^2 unbiased, Gaussian, d={DIM}: median wall seconds, speedup = "
                      "median per-round numpy/divkit ratio; the same for process CPU seconds "
                      "(meaningful with 1 thread)")
    print_table(memory, ["n", "divkit_peak_extra_mib", "numpy_peak_extra_mib"],
                title="\npeak extra resident memory of one call (MiB)")
    print_table(perms, ["threads", "n", "n_permutations", "seconds", "peak_extra_mib", "p_value"],
                title="\nmmd_test permutation test (pooled kernel matrix computed once)")
    write_json("mmd_quick" if args.quick else "mmd", {
        "problem": {"d": DIM, "sigma": SIGMA, "kernel": "gaussian", "estimator": "unbiased"},
        "env": {"OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE"),
                "OPENBLAS_NUM_THREADS": "1", "load_average": os.getloadavg()},
        "timing": rows, "memory": memory, "permutations": perms})
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, ax = plt.subplots(figsize=(6, 4))
    for threads, style in ((1, "-"), (2, "--")):
        sel = [r for r in rows if r["threads"] == threads]
        ns = [r["n"] for r in sel]
        ax.loglog(ns, [r["divkit_s"] for r in sel], "o" + style, label=f"divkit, {threads} thr")
        ax.loglog(ns, [r["numpy_s"] for r in sel], "s" + style,
                  label=f"numpy cdist, {threads} thr")
    ax.set_xlabel("n = m")
    ax.set_ylabel("seconds (median)")
    ax.set_title(f"unbiased MMD^2, Gaussian kernel, d = {DIM}")
    ax.legend()
    fig.tight_layout()
    path = HERE / "results" / ("mmd_quick.png" if args.quick else "mmd.png")
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
