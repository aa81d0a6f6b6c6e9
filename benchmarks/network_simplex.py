"""Benchmark: divkit's numba network simplex against POT's C++ network simplex (``ot.emd2``).

Sections (each runs in its own subprocess so thread settings and peak memory are clean):

1. speed: 2-D uniform points, squared-euclidean cost, uniform and Dirichlet weights,
   n = m = 1000, 2000, 4000, single-threaded, interleaved repetitions, median ratio
   divkit / POT (acceptance: <= 1.0 at every size);
2. large: n = m = 8000 solved to optimality, time and peak memory; POT with default settings
   (its iteration cap silently gives a wrong cost);
3. on the fly: n = m = 20000 point clouds without a cost matrix, time and peak memory;
4. batch: 10^4 problems of 32 points, ``emd_batch`` with 2 threads vs a Python loop of
   ``ot.emd2``;
5. warm start: 20 problems whose points drift slightly, warm vs cold (ratio);
6. overhead: the public ``emd`` route over the raw solver and ``wasserstein(return_result=True)``
   over the float path at n = 2000 (wall and CPU time, paired ratios).

Usage: ``python benchmarks/network_simplex.py [--quick] [--sections 1,2,3,4,5]``.
Writes ``benchmarks/results/network_simplex.json`` and a PNG of section 1.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from _harness import (
    RESULTS_DIR,
    interleaved,
    median_ratio,
    peak_rss_mib,
    print_table,
    single_thread_env,
    write_json,
)


def _points_problem(n, weights, seed):
    import numpy as np

    rng = np.random.default_rng(seed)
    x = rng.random((n, 2))
    y = rng.random((n, 2))
    if weights == "uniform":
        a = np.full(n, 1.0 / n)
        b = np.full(n, 1.0 / n)
    else:
        a = rng.dirichlet(np.ones(n))
        b = rng.dirichlet(np.ones(n))
    return x, y, a, b


def _sqeuclidean(x, y):
    """Squared euclidean cost matrix, filled in row chunks so that building it needs no
    full-size temporaries (peak memory then measures the solvers, not this function)."""
    import numpy as np

    C = np.empty((x.shape[0], y.shape[0]))
    for lo in range(0, x.shape[0], 256):
        diff = x[lo : lo + 256, None, :] - y[None, :, :]
        np.einsum("ijk,ijk->ij", diff, diff, out=C[lo : lo + 256])
    return C


def section_speed(quick: bool, repeats: int):
    single_thread_env()
    import ot

    from divkit import emd
    from divkit.ot.solvers.network_simplex import network_simplex

    sizes = [300, 600] if quick else [1000, 2000, 4000]
    rows = []
    for n in sizes:
        for weights in ("uniform", "dirichlet"):
            x, y, a, b = _points_problem(n, weights, seed=n)
            C = _sqeuclidean(x, y)
            t = interleaved(
                {
                    "divkit": lambda: network_simplex(a, b, C, sparse=True),
                    "divkit_emd": lambda: emd(a, b, C, sparse=True),
                    "pot": lambda: ot.emd2(a, b, C),
                },
                repeats=repeats,
            )
            res = t["divkit"]["value"]
            pot_cost = float(t["pot"]["value"])
            rows.append(
                {
                    "n": n,
                    "weights": weights,
                    "divkit_s": t["divkit"]["median"],
                    "pot_s": t["pot"]["median"],
                    "ratio": median_ratio(t, "divkit", "pot"),
                    "cpu_ratio": median_ratio(t, "divkit", "pot", clock="cpu"),
                    "emd_s": t["divkit_emd"]["median"],
                    "emd_ratio": median_ratio(t, "divkit_emd", "pot"),
                    "emd_cpu_ratio": median_ratio(t, "divkit_emd", "pot", clock="cpu"),
                    "divkit_times": t["divkit"]["times"],
                    "pot_times": t["pot"]["times"],
                    "pivots": res.iterations,
                    "rel_diff_vs_pot": abs(res.cost - pot_cost) / abs(res.cost),
                }
            )
            print(rows[-1], flush=True)
    return {"speed": rows}


def _rss_now_mib():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def section_large(quick: bool, which: str):
    single_thread_env()

    n = 2000 if quick else 8000
    x, y, a, b = _points_problem(n, "uniform", seed=8000)
    C = _sqeuclidean(x, y)
    if which == "divkit":
        from divkit.ot.solvers.network_simplex import network_simplex

        network_simplex(a[:50] / a[:50].sum(), b[:50] / b[:50].sum(), C[:50, :50])  # compile
    else:
        import ot
    base = max(_rss_now_mib(), peak_rss_mib())
    t0 = time.perf_counter()
    if which == "divkit":
        res = network_simplex(a, b, C, sparse=True)
        cost, extra = res.cost, {"pivots": res.iterations,
                                 "worst_relative_residual": res.certificate.worst_relative_residual()}
    else:
        import warnings

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cost = float(ot.emd2(a, b, C))
        extra = {"warnings": [str(w.message)[:120] for w in caught]}
    dt = time.perf_counter() - t0
    peak = peak_rss_mib()
    return {
        "n": n,
        "solver": which,
        "seconds": dt,
        "cost": float(cost),
        "peak_rss_mib": peak,
        "extra_mib_over_cost_matrix": peak - base,
        "bytes_per_arc_over_cost_matrix": (peak - base) * 2**20 / (n * n),
        "cost_matrix_mib": C.nbytes / 2**20,
        **extra,
    }


def section_onthefly(quick: bool):
    os.environ.setdefault("NUMBA_NUM_THREADS", "2")

    from divkit.ot.solvers.network_simplex import network_simplex_points

    n = 3000 if quick else int(os.environ.get("DIVKIT_BENCH_ONTHEFLY_N", "20000"))
    x, y, a, b = _points_problem(n, "uniform", seed=20000)
    network_simplex_points(x[:50], y[:50])  # compile
    base = max(_rss_now_mib(), peak_rss_mib())
    t0 = time.perf_counter()
    res = network_simplex_points(x, y, a, b, metric="sqeuclidean")
    dt = time.perf_counter() - t0
    return {
        "n": n,
        "seconds": dt,
        "cost": res.cost,
        "pivots": res.iterations,
        "worst_relative_residual": res.certificate.worst_relative_residual(),
        "peak_rss_mib": peak_rss_mib(),
        "extra_mib": peak_rss_mib() - base,
        "dense_cost_matrix_would_be_mib": 8 * n * n / 2**20,
        "threads": int(os.environ["NUMBA_NUM_THREADS"]),
    }


def section_batch(quick: bool, repeats: int):
    os.environ["NUMBA_NUM_THREADS"] = "2"
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    import numpy as np
    import ot

    from divkit.ot import emd_batch

    k = 1000 if quick else 10_000
    n = 32
    rng = np.random.default_rng(32)
    A = rng.dirichlet(np.ones(n), k)
    B = rng.dirichlet(np.ones(n), k)
    X = rng.random((k, n, 2))
    Y = rng.random((k, n, 2))
    Cs = ((X[:, :, None, :] - Y[:, None, :, :]) ** 2).sum(-1)

    def pot_loop():
        return np.array([ot.emd2(A[t], B[t], Cs[t]) for t in range(k)])

    t = interleaved({"divkit": lambda: emd_batch(A, B, Cs).costs, "pot_loop": pot_loop},
                    repeats=repeats)
    diff = float(np.max(np.abs(t["divkit"]["value"] - t["pot_loop"]["value"])))
    return {
        "problems": k,
        "points": n,
        "threads": 2,
        "divkit_s": t["divkit"]["median"],
        "pot_loop_s": t["pot_loop"]["median"],
        "ratio": median_ratio(t, "divkit", "pot_loop"),
        "speedup": 1.0 / median_ratio(t, "divkit", "pot_loop"),
        "max_abs_cost_diff": diff,
    }


def section_warm(quick: bool, repeats: int):
    single_thread_env()
    import numpy as np

    from divkit.ot.solvers.network_simplex import network_simplex as solve_network_simplex

    n = 300 if quick else 1000
    steps = 20
    rng = np.random.default_rng(5)
    x = rng.random((n, 2))
    y = rng.random((n, 2))
    a = np.full(n, 1.0 / n)
    drift = 0.002 * rng.normal(size=(n, 2))
    Cs = [_sqeuclidean(x + t * drift, y) for t in range(steps)]

    def cold():
        return [solve_network_simplex(a, a, C, sparse=True) for C in Cs]

    def warm():
        out, prev = [], None
        for C in Cs:
            prev = solve_network_simplex(a, a, C, sparse=True, warm_start=prev)
            out.append(prev)
        return out

    t = interleaved({"cold": cold, "warm": warm}, repeats=repeats)
    c, w = t["cold"]["value"], t["warm"]["value"]
    return {
        "n": n,
        "steps": steps,
        "cold_s": t["cold"]["median"],
        "warm_s": t["warm"]["median"],
        "ratio_warm_over_cold": median_ratio(t, "warm", "cold"),
        "cold_pivots": sum(r.iterations for r in c),
        "warm_pivots": sum(r.iterations for r in w),
        "max_abs_cost_diff": max(abs(p.cost - q.cost) for p, q in zip(c, w)),
    }


def section_overhead(quick: bool, repeats: int):
    """Issue 9 point 7: the public route's cost over the raw solver, and return_result's over
    the float path, wall and CPU time, interleaved, median of paired ratios."""
    single_thread_env()
    import statistics

    from divkit import emd, wasserstein
    from divkit.ot.problem import make_problem
    from divkit.ot.solvers.network_simplex import solve_dense_raw

    n = 600 if quick else 2000
    x, y, a, b = _points_problem(n, "dirichlet", seed=7)
    C = _sqeuclidean(x, y)
    problem = make_problem(a, b, C)
    cands = {
        "raw": lambda: solve_dense_raw(problem),
        "emd": lambda: emd(a, b, C, sparse=True),
        "emd_dense_plan": lambda: emd(a, b, C).plan,
        "w_float": lambda: wasserstein(x, y, a, b, p=2),
        "w_result": lambda: wasserstein(x, y, a, b, p=2, return_result=True),
    }
    for fn in cands.values():
        fn()
    wall = {k: [] for k in cands}
    cpu = {k: [] for k in cands}
    for _ in range(repeats):
        for k, fn in cands.items():
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            wall[k].append(time.perf_counter() - t0)
            cpu[k].append(time.process_time() - c0)

    def ratio(d, u, v):
        return statistics.median(p / q for p, q in zip(d[u], d[v]))

    return {
        "n": n,
        "repeats": repeats,
        **{f"{k}_wall_s": statistics.median(v) for k, v in wall.items()},
        **{f"{k}_cpu_s": statistics.median(v) for k, v in cpu.items()},
        "emd_over_raw_wall": ratio(wall, "emd", "raw"),
        "emd_over_raw_cpu": ratio(cpu, "emd", "raw"),
        "dense_plan_over_sparse_cpu": ratio(cpu, "emd_dense_plan", "emd"),
        "result_over_float_wall": ratio(wall, "w_result", "w_float"),
        "result_over_float_cpu": ratio(cpu, "w_result", "w_float"),
    }


def _run_child(args_list):
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", *args_list]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        print(out.stdout, out.stderr)
        raise RuntimeError(f"benchmark child {args_list} failed")
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise RuntimeError("no result from child")


def _plot(speed_rows):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover
        return
    fig, ax = plt.subplots(figsize=(6, 4))
    for weights, marker in (("uniform", "o"), ("dirichlet", "s")):
        rows = [r for r in speed_rows if r["weights"] == weights]
        ax.plot([r["n"] for r in rows], [r["ratio"] for r in rows], marker=marker, label=weights)
    ax.axhline(1.0, color="k", lw=0.8, ls="--")
    ax.set_xscale("log")
    ax.set_xlabel("n = m (2-D uniform points, squared euclidean)")
    ax.set_ylabel("time divkit / POT ot.emd2 (median ratio)")
    ax.set_title("exact OT, single thread")
    ax.legend()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / "network_simplex_speed.png"
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--sections", default="1,2,3,4,5")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        what = args.child[0]
        if what == "speed":
            out = section_speed(args.quick, args.repeats)
        elif what == "large":
            out = section_large(args.quick, args.child[1])
        elif what == "onthefly":
            out = section_onthefly(args.quick)
        elif what == "batch":
            out = section_batch(args.quick, args.repeats)
        elif what == "overhead":
            out = section_overhead(args.quick, args.repeats)
        else:
            out = section_warm(args.quick, args.repeats)
        print("RESULT " + json.dumps(out, default=float))
        return

    flags = (["--quick"] if args.quick else []) + ["--repeats", str(args.repeats)]
    sections = {s.strip() for s in args.sections.split(",")}
    payload = {"quick": args.quick, "repeats": args.repeats}
    if "1" in sections:
        speed = _run_child(["speed", *flags])["speed"]
        payload["speed"] = speed
        print_table(speed, ["n", "weights", "divkit_s", "emd_s", "pot_s", "ratio", "cpu_ratio", "emd_ratio", "emd_cpu_ratio", "pivots",
                            "rel_diff_vs_pot"],
                    title="\n(1) divkit network_simplex (and the public emd, method='auto', with its strict "
                          "certificate) vs POT ot.emd2, single thread")
        _plot(speed)
    if "2" in sections:
        rows = [_run_child(["large", who, *flags]) for who in ("divkit", "pot")]
        rows[1]["rel_error_vs_divkit"] = (rows[1]["cost"] - rows[0]["cost"]) / rows[0]["cost"]
        rows[0]["rel_error_vs_divkit"] = 0.0
        payload["large"] = rows
        print_table(rows, ["n", "solver", "seconds", "cost", "rel_error_vs_divkit", "peak_rss_mib",
                           "bytes_per_arc_over_cost_matrix"],
                    title="\n(2) large problem, single thread (POT with default numItermax)")
    if "3" in sections:
        row = _run_child(["onthefly", *flags])
        payload["onthefly"] = row
        print_table([row], ["n", "seconds", "pivots", "peak_rss_mib", "extra_mib",
                            "dense_cost_matrix_would_be_mib", "threads"],
                    title="\n(3) on-the-fly costs (no cost matrix)")
    if "4" in sections:
        row = _run_child(["batch", *flags])
        payload["batch"] = row
        print_table([row], ["problems", "points", "threads", "divkit_s", "pot_loop_s", "ratio",
                            "speedup", "max_abs_cost_diff"],
                    title="\n(4) emd_batch vs a Python loop over ot.emd2")
    if "5" in sections:
        row = _run_child(["warm", *flags])
        payload["warm"] = row
        print_table([row], ["n", "steps", "cold_s", "warm_s", "ratio_warm_over_cold",
                            "cold_pivots", "warm_pivots", "max_abs_cost_diff"],
                    title="\n(5) warm start over a drifting sequence, single thread")
    if "6" in sections:
        row = _run_child(["overhead", *flags])
        payload["overhead"] = row
        print_table([row], ["n", "raw_cpu_s", "emd_cpu_s", "emd_over_raw_wall", "emd_over_raw_cpu",
                            "dense_plan_over_sparse_cpu", "result_over_float_wall",
                            "result_over_float_cpu"],
                    title="\n(6) public emd route over the raw solver; return_result over the float path")
    write_json("network_simplex" + ("_quick" if args.quick else ""), payload)


if __name__ == "__main__":
    main()
