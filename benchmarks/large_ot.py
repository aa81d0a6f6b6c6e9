"""Benchmark: exact OT at image and point-cloud scale (issue 12).

divkit's multiscale sparse network simplex (:mod:`divkit.ot.solvers.multiscale`) against divkit's dense
network simplex (``divkit.ot.emd`` on the cost matrix, or on-the-fly costs for clouds) and
POT's ``ot.emd2``, where they fit.

Instances (all generated here, fixed seeds; DOTmark-like, Schrieber et al. 2017: images
normalised to mass 1, cost = squared distance between pixel centres):

* ``white``: white noise (uniform pixel values);
* ``lograndom``: a log-Gaussian random field (white noise smoothed by a Gaussian filter in
  Fourier space, exponentiated);
* ``cauchy``: a sum of Cauchy-density bumps at random centres and widths;
* clouds: 2-D uniform points in a square of mean spacing 1, 2-D clustered points (a mixture of
  20 Gaussians), 3-D uniform points; uniform weights, cost ``||x - y||^2``.

Each (instance, solver) run happens in a fresh subprocess, single-threaded
(``NUMBA_NUM_THREADS=1``), after a warm-up solve of a small problem (compilation), so the CPU
time, wall time and peak extra memory (``ru_maxrss`` after minus before the solve, cost matrix
included for the dense solvers) belong to the solve alone. Repetitions are interleaved across
solvers and medians reported, with the ratio divkit-dense / multiscale per repetition.

Usage: ``python benchmarks/large_ot.py [--quick]``, or in parts side by side
(``--part grids``, ``clouds``, ``grid256``, ``cloud1e5``, then ``--report``; ``--reps`` caps
repetitions). Writes ``benchmarks/results/large_ot.json`` and ``benchmarks/results/large_ot.png``
(time against n on log axes, one line per solver and class).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from _harness import RESULTS_DIR, print_table, single_thread_env, write_json

SEEDS = {"white": 101, "lograndom": 202, "cauchy": 303, "uniform2d": 404, "clustered2d": 505,
         "uniform3d": 606}


# ------------------------------------------------------------------ instances


def make_image(kind: str, N: int, which: int):
    import numpy as np

    rng = np.random.default_rng(SEEDS[kind] * 1000 + N * 10 + which)
    if kind == "white":
        img = rng.random((N, N))
    elif kind == "lograndom":
        noise = rng.standard_normal((N, N))
        k = np.fft.fftfreq(N)
        kk = k[:, None] ** 2 + k[None, :] ** 2
        width = 0.1 * N  # correlation length in pixels (scales with the image, as in DOTmark)
        field = np.real(np.fft.ifft2(np.fft.fft2(noise) * np.exp(-2 * (math.pi * width) ** 2 * kk)))
        field /= field.std() + 1e-300
        img = np.exp(field)
    elif kind == "cauchy":
        yy, xx = np.mgrid[0:N, 0:N]
        img = np.zeros((N, N))
        for _ in range(10):
            c = rng.random(2) * N
            s = (0.02 + 0.08 * rng.random()) * N
            img += rng.random() / (1 + ((xx - c[0]) ** 2 + (yy - c[1]) ** 2) / s**2)
    else:
        raise ValueError(kind)
    return img / img.sum()


def make_cloud(kind: str, n: int, which: int):
    import numpy as np

    rng = np.random.default_rng(SEEDS[kind] * 1000 + which + 17 * n)
    if kind == "uniform2d":
        return rng.random((n, 2)) * math.sqrt(n)
    if kind == "uniform3d":
        return rng.random((n, 3)) * n ** (1 / 3)
    if kind == "clustered2d":
        side = math.sqrt(n)
        centres = rng.random((20, 2)) * side
        widths = (0.02 + 0.08 * rng.random(20)) * side
        lab = rng.integers(0, 20, n)
        return centres[lab] + rng.standard_normal((n, 2)) * widths[lab, None]
    raise ValueError(kind)


# ------------------------------------------------------------------ child process


def child(spec: dict) -> dict:
    import resource
    import time

    import numpy as np

    kind, size, solver = spec["kind"], spec["size"], spec["solver"]
    image = kind in ("white", "lograndom", "cauchy")
    if image:
        a_img, b_img = make_image(kind, size, 0), make_image(kind, size, 1)
        from divkit.ot.solvers.multiscale import grid_points

        x = y = grid_points(a_img.shape)
        a, b = a_img.ravel(), b_img.ravel()
    else:
        x, y = make_cloud(kind, size, 0), make_cloud(kind, size, 1)
        a = np.full(size, 1.0 / size)
        b = a
    from divkit.ot import emd, network_simplex_points
    from divkit.ot.result import OPTIMALITY_RTOL
    from divkit.ot.solvers.multiscale import finish_multiscale, multiscale_wasserstein, solve_multiscale

    rng = np.random.default_rng(0)
    xs, ys = rng.random((64, x.shape[1])), rng.random((64, x.shape[1]))
    Cs = ((xs[:, None] - ys[None]) ** 2).sum(-1)
    ws = np.full(64, 1 / 64)

    def cost_matrix():
        return ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)

    if solver == "multiscale":
        multiscale_wasserstein(xs, ys, p=2)  # compile / load the cache

        def run():
            # the body of wasserstein_grid / multiscale_wasserstein(return_result=True) after input
            # validation: the raw solve (whose levels, rounds and arcs are reported) and the one
            # finisher with the exact all-pairs dual pass
            sol = solve_multiscale(x, y, a / a.sum(), b / b.sum(), p=2.0)
            r = finish_multiscale(x, y, a / a.sum(), b / b.sum(), sol, 2.0, OPTIMALITY_RTOL)
            return r.cost, {"levels": sol.levels, "rounds": sol.rounds, "arcs": sol.arcs,
                            "pivots": r.iterations, "violation": r.certificate.dual_infeasibility}
    elif solver == "divkit-dense":
        emd(ws, ws, Cs)
        network_simplex_points(xs, ys, ws, ws, metric="sqeuclidean", power=1.0)

        def run():
            if x.shape[0] * y.shape[0] <= 1.4e8 and image:
                r = emd(a, b, cost_matrix())
            else:  # on-the-fly costs (no n x m matrix)
                r = network_simplex_points(x, y, a, b, metric="sqeuclidean", power=1.0)
            return r.cost, {"pivots": r.iterations}
    elif solver == "pot":
        import ot

        ot.emd2(ws, ws, Cs)

        def run():
            C = cost_matrix()
            val = ot.emd2(a, b, C, numItermax=10**9)
            return float(val), {}
    else:
        raise ValueError(solver)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    c0 = time.process_time()
    w0 = time.perf_counter()
    cost, info = run()
    cpu = time.process_time() - c0
    wall = time.perf_counter() - w0
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"cost": float(cost), "cpu_s": cpu, "wall_s": wall,
            "peak_extra_mib": max(rss1 - rss0, 0) / 1024.0, **info}


def run_child(spec: dict, timeout: float) -> dict | None:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        env[var] = "1"
    env["PYTHONPATH"] = str(HERE.parent) + os.pathsep + env.get("PYTHONPATH", "")
    try:
        out = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], check=False, env=env,
                             capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"timeout": timeout}
    if out.returncode != 0:
        return {"error": out.stderr[-2000:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------ driver


def plan(quick: bool):
    """(kind, size, solvers, repeats) in the order they run."""
    images = ["white", "lograndom", "cauchy"]
    jobs = []
    grid_sizes = [32, 64] if quick else [32, 64, 128, 256]
    for N in grid_sizes:
        for kind in images if not quick or N == 32 else ["cauchy"]:
            solvers = ["multiscale"]
            if N <= (32 if quick else 64):
                solvers += ["divkit-dense", "pot"]
            reps = 3 if N <= 64 else 1
            jobs.append((kind, N, solvers, reps))
    cloud_sizes = [10_000] if quick else [10_000, 30_000, 100_000]
    for n in cloud_sizes:
        for kind in ["uniform2d", "clustered2d", "uniform3d"]:
            if quick and kind != "uniform2d":
                continue
            solvers = ["multiscale"]
            if n == 10_000 and kind == "uniform2d" and not quick:
                solvers += ["divkit-dense"]
            jobs.append((kind, n, solvers, 3 if n <= 10_000 else 1))
    return jobs


#: parts of the plan that can run as separate processes: a job is *skipped* by a part when the
#: part's predicate is true
PARTS = {"grids": lambda kind, size: size > 128,
         "clouds": lambda kind, size: size <= 256 or size >= 100_000,
         "grid256": lambda kind, size: size != 256,
         "cloud1e5": lambda kind, size: size != 100_000}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only (~2 min)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--timeout", type=float, default=900.0, help="per run, seconds")
    parser.add_argument("--part", choices=["all", *PARTS], default="all",
                        help="run one part of the plan (parts can run side by side) and write its rows to "
                             "results/large_ot_part_PART.json; --report then merges the parts")
    parser.add_argument("--reps", type=int, default=None, help="at most this many repetitions per instance")
    parser.add_argument("--report", action="store_true", help="merge the part files into the table, JSON and plot")
    args = parser.parse_args()
    if args.child:
        single_thread_env()
        print(json.dumps(child(json.loads(args.child))))
        return
    if args.report:
        rows = []
        for part in PARTS:
            path = RESULTS_DIR / f"large_ot_part_{part}.json"
            if path.exists():
                rows += json.loads(path.read_text())["rows"]
        report(rows, args.quick)
        return
    rows = []
    for kind, size, solvers, reps in plan(args.quick):
        if args.part != "all" and PARTS[args.part](kind, size):
            continue
        if args.reps is not None:
            reps = min(reps, args.reps)
        runs = {s: [] for s in solvers}
        for _ in range(reps):  # interleaved repetitions
            for s in solvers:
                runs[s].append(run_child({"kind": kind, "size": size, "solver": s}, args.timeout))
        n_points = size * size if kind in ("white", "lograndom", "cauchy") else size
        label = f"{size}x{size}" if n_points != size else str(size)
        ms_ok = [r for r in runs["multiscale"] if r and "cost" in r]
        for s in solvers:
            ok = [r for r in runs[s] if r and "cost" in r]
            row = {"class": kind, "size": label, "n": n_points, "solver": s, "reps": len(ok)}
            if not ok:
                row["note"] = str(runs[s][0])[:80]
                rows.append(row)
                continue
            row.update(cpu_s=statistics.median(r["cpu_s"] for r in ok),
                       wall_s=statistics.median(r["wall_s"] for r in ok),
                       peak_mib=max(r["peak_extra_mib"] for r in ok), cost=ok[0]["cost"])
            for key in ("levels", "rounds", "arcs", "pivots"):
                if key in ok[0]:
                    row[key] = ok[0][key]
            if s != "multiscale" and ms_ok:
                row["rel_diff_vs_ms"] = abs(ok[0]["cost"] - ms_ok[0]["cost"]) / abs(ok[0]["cost"])
                pairs = list(zip(ok, ms_ok))
                row["cpu_ratio_vs_ms"] = statistics.median(r["cpu_s"] / m["cpu_s"] for r, m in pairs)
            rows.append(row)
        print_table(rows[-len(solvers):], ["class", "size", "solver", "cpu_s", "wall_s", "peak_mib",
                                           "cost", "rel_diff_vs_ms", "cpu_ratio_vs_ms"])
        sys.stdout.flush()
    if args.part != "all":
        write_json(f"large_ot_part_{args.part}", {"rows": rows})
        return
    report(rows, args.quick)


def report(rows: list, quick: bool):
    """Summary table, grid scaling exponents, ``results/large_ot.json`` and the log-log plot."""
    # scaling exponents of the multiscale solver on grids: d log t / d log n between sizes
    exponents = []
    for kind in ("white", "lograndom", "cauchy"):
        pts = sorted((r["n"], r["cpu_s"]) for r in rows
                     if r["class"] == kind and r["solver"] == "multiscale" and "cpu_s" in r)
        for (n0, t0), (n1, t1) in itertools.pairwise(pts):
            exponents.append({"class": kind, "from_n": n0, "to_n": n1,
                              "exponent": math.log(t1 / t0) / math.log(n1 / n0)})
    print()
    print_table(rows, ["class", "size", "solver", "reps", "cpu_s", "wall_s", "peak_mib", "cost", "levels",
                       "rounds", "arcs", "rel_diff_vs_ms", "cpu_ratio_vs_ms"], title="all runs (medians)")
    print()
    print_table(exponents, ["class", "from_n", "to_n", "exponent"], title="multiscale CPU-time exponent on grids")
    write_json("large_ot", {"quick": quick, "single_threaded": True, "rows": rows,
                            "grid_exponents": exponents,
                            "note": "2-core machine shared with other engineers' jobs (loaded)"})
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 5))
        series = {}
        for r in rows:
            if "cpu_s" in r:
                series.setdefault((r["solver"], r["class"]), []).append((r["n"], r["cpu_s"]))
        for (solver, kind), pts in sorted(series.items()):
            pts.sort()
            style = {"multiscale": "-o", "divkit-dense": "--s", "pot": ":^"}[solver]
            ax.loglog([p[0] for p in pts], [p[1] for p in pts], style, label=f"{solver} / {kind}")
        ax.set_xlabel("number of points n")
        ax.set_ylabel("CPU time, s (single thread)")
        ax.set_title("exact OT: multiscale sparse simplex vs dense solvers")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        fig.savefig(RESULTS_DIR / "large_ot.png", dpi=120, bbox_inches="tight")
        print(f"wrote {RESULTS_DIR / 'large_ot.png'}")
    except ImportError:
        pass


if __name__ == "__main__":
    main()
