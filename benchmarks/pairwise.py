"""Pairwise matrices and MMD on dask arrays: divkit against its anchors, side by side.

Part 1, exact W_1 pairwise (Euclidean ground metric, uniform weights):

* ``divkit.pairwise(clouds)`` (blocks of pairs solved by ``emd_batch``, numba threads),
* ``wasserstein.PairwiseEMD(norm=True)`` (C++ LEMON network simplex, OpenMP),
* a loop of ``ot.emd2`` over the pairs (one thread; two threads via a thread pool),

at 1 and 2 threads, interleaved in one process (median of per-round ratios, wall and CPU
time). Cases: point clouds in 2-D and 16-D and histograms on an 8 x 8 grid (``--quick``:
N = 60..100 sets of 50 points; full: N = 100..1000 and 50..500 points). The values of every
candidate are compared with divkit's matrix (max relative difference). One more row runs the
same divkit call on a dask LocalCluster with 2 worker processes.

Part 2, MMD^2 (Gaussian kernel, unbiased) on dask arrays against the in-memory function on the
same machine: ``divkit.mmd2(dask_x, dask_y)`` with the threaded dask scheduler and on the
LocalCluster, over ``divkit.mmd2(x, y)`` (``--quick``: n = m = 8000 and 30000, d = 8,
chunks of 10000 rows; full: up to
n = 1e6 rows on dask, the in-memory function at the largest size where it runs).

Usage: ``python benchmarks/pairwise.py [--quick]``. Writes benchmarks/results/pairwise.json
and pairwise.png.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _harness import RESULTS_DIR, print_table, write_json


def timed(fn):
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w0, time.process_time() - c0, out


def interleave(candidates: dict, repeats: int, warmup: bool = True) -> dict:
    for fn in (candidates.values() if warmup else ()):  # warm-up: numba caches, thread pools
        fn()
    rec = {k: {"wall": [], "cpu": [], "value": None} for k in candidates}
    order = list(candidates.items())
    for r in range(repeats):
        # every other round backwards, so no candidate always runs right after the same one
        for name, fn in (order if r % 2 == 0 else order[::-1]):
            w, c, v = timed(fn)
            rec[name]["wall"].append(w)
            rec[name]["cpu"].append(c)
            rec[name]["value"] = v
    return rec


def busy(rec, name):
    """Median CPU time over wall time of one candidate: the cores it kept busy."""
    return statistics.median(c / w for c, w in zip(rec[name]["cpu"], rec[name]["wall"]))


def ratio(rec, num, den, key="wall"):
    return statistics.median(a / b for a, b in zip(rec[num][key], rec[den][key]))


# ---------------------------------------------------------------------------------------------
# part 1: exact W pairwise
# ---------------------------------------------------------------------------------------------


def make_case(kind, N, n, d, rng):
    if kind == "clouds":
        return [rng.normal(size=(n, d)) for _ in range(N)], None
    g = np.stack(np.meshgrid(np.arange(8.0), np.arange(8.0)), -1).reshape(-1, 2)
    H = rng.random((N, g.shape[0])) + 1e-3  # strictly positive (PairwiseEMD drops no bins)
    return H, g


def pemd_matrix(data, support, threads):
    import wasserstein

    pemd = wasserstein.PairwiseEMD(R=1.0, beta=1.0, norm=True, num_threads=threads, verbose=0)
    if support is None:
        events = [np.ascontiguousarray(c) for c in data]
        weights = [np.full(len(c), 1.0 / len(c)) for c in data]
    else:
        events = [support] * len(data)
        weights = [h / h.sum() for h in data]
    arrs = [np.concatenate([w[:, None], e], axis=1) for w, e in zip(weights, events)]
    pemd(arrs)
    return pemd.emds()


def pot_loop(data, support, threads):
    import ot
    from scipy.spatial.distance import cdist

    N = len(data)
    pairs = [(i, j) for i in range(N) for j in range(i + 1, N)]
    C_shared = None if support is None else cdist(support, support)

    def one(pair):
        i, j = pair
        if support is None:
            x, y = data[i], data[j]
            return ot.emd2(np.full(len(x), 1 / len(x)), np.full(len(y), 1 / len(y)),
                           cdist(x, y), numItermax=10**7)
        return ot.emd2(data[i] / data[i].sum(), data[j] / data[j].sum(), C_shared,
                       numItermax=10**7)

    if threads == 1:
        vals = [one(p) for p in pairs]
    else:
        with ThreadPoolExecutor(threads) as pool:
            vals = list(pool.map(one, pairs))
    D = np.zeros((N, N))
    for (i, j), v in zip(pairs, vals):
        D[i, j] = D[j, i] = v
    return D


def divkit_matrix(data, support, threads):
    import numba

    import divkit

    numba.set_num_threads(threads)
    try:
        if support is None:
            return divkit.pairwise(data).matrix
        return divkit.pairwise(data, support=support).matrix
    finally:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)


def part1(cases, repeats, client, with_pot=True):
    import divkit

    rows = []
    for kind, N, n, d in cases:
        rng = np.random.default_rng(N + n + d)
        data, support = make_case(kind, N, n, d, rng)
        cands = {}
        for t in (1, 2):
            cands[f"divkit_t{t}"] = (lambda t=t, data=data, support=support: divkit_matrix(data, support, t))
            cands[f"pemd_t{t}"] = (lambda t=t, data=data, support=support: pemd_matrix(data, support, t))
            if with_pot:
                cands[f"pot_t{t}"] = (lambda t=t, data=data, support=support:
                                      pot_loop(data, support, t))
        rec = interleave(cands, repeats)
        ref = rec["divkit_t1"]["value"]
        scale = max(np.abs(ref).max(), 1e-300)
        label = f"{kind} N={N} n={n if kind == 'clouds' else 64} d={d if kind == 'clouds' else 2}"
        for t in (1, 2):
            row = {"case": label, "threads": t,
                   "divkit_s": statistics.median(rec[f"divkit_t{t}"]["wall"]),
                   "pemd_s": statistics.median(rec[f"pemd_t{t}"]["wall"]),
                   "pot_s": statistics.median(rec[f"pot_t{t}"]["wall"]) if with_pot else None,
                   "divkit_cpu_s": statistics.median(rec[f"divkit_t{t}"]["cpu"]),
                   "pemd_cpu_s": statistics.median(rec[f"pemd_t{t}"]["cpu"]),
                   # CPU over wall: how many cores each one really kept busy
                   "divkit_busy": busy(rec, f"divkit_t{t}"),
                   "pemd_busy": busy(rec, f"pemd_t{t}"),

                   "pemd/divkit": ratio(rec, f"pemd_t{t}", f"divkit_t{t}"),
                   "pot/divkit": ratio(rec, f"pot_t{t}", f"divkit_t{t}") if with_pot else None,
                   "pemd/divkit_cpu": ratio(rec, f"pemd_t{t}", f"divkit_t{t}", "cpu"),
                   "maxdiff_pemd": float(np.abs(rec[f"pemd_t{t}"]["value"] - ref).max() / scale),
                   "maxdiff_pot": (float(np.abs(rec[f"pot_t{t}"]["value"] - ref).max() / scale)
                                   if with_pot else None),
                   "same_bits_t1_t2": bool(np.array_equal(rec["divkit_t2"]["value"], ref))}
            rows.append(row)
        if client is not None:
            kw = {} if support is None else {"support": support}
            w, _, D = timed(lambda data=data, kw=kw: divkit.pairwise(data, client=client, **kw).matrix)
            rows.append({"case": label, "threads": "dask 2w", "divkit_s": w,
                         "same_bits_t1_t2": bool(np.array_equal(D, ref))})
    return rows


# ---------------------------------------------------------------------------------------------
# part 2: MMD^2 on dask arrays
# ---------------------------------------------------------------------------------------------


def part2(sizes, repeats, client, chunk):
    import dask
    import dask.array as da

    import divkit

    rows = []
    for n, in_memory in sizes:
        rng = np.random.default_rng(n)
        x = rng.normal(size=(n, 8))
        y = rng.normal(size=(n, 8)) + 0.05
        X = da.from_array(x, chunks=(chunk, 8))
        Y = da.from_array(y, chunks=(chunk, 8))

        def dask_threads(X=X, Y=Y):
            with dask.config.set(scheduler="threads"):
                return divkit.mmd2(X, Y, bandwidth=3.0)

        cands = {"dask_threads": dask_threads}
        if client is not None:
            cands["dask_cluster"] = lambda X=X, Y=Y: divkit.mmd2(X, Y, bandwidth=3.0)
        if in_memory:
            cands["in_memory"] = lambda x=x, y=y: divkit.mmd2(x, y, bandwidth=3.0)
        rec = interleave(cands, repeats if in_memory else 1)
        row = {"n": n, "chunk": chunk,
               "dask_threads_s": statistics.median(rec["dask_threads"]["wall"])}
        if client is not None:
            row["dask_cluster_s"] = statistics.median(rec["dask_cluster"]["wall"])
        if in_memory:
            want = rec["in_memory"]["value"]
            row["in_memory_s"] = statistics.median(rec["in_memory"]["wall"])
            row["threads/in_memory"] = ratio(rec, "dask_threads", "in_memory")
            if client is not None:
                row["cluster/in_memory"] = ratio(rec, "dask_cluster", "in_memory")
            row["absdiff"] = abs(rec["dask_threads"]["value"] - want)
        rows.append(row)
    return rows


def part2_large(n_big, d, chunk, estimate_sizes, budget_s, repeats):
    """MMD^2 at ``n_big`` rows on dask (threaded scheduler) against the in-memory function.

    The quadratic estimators cost ~3 n^2 kernel evaluations: their in-memory time is measured
    at ``estimate_sizes`` and extrapolated (t ~ n^2, fitted on the largest size). Where the
    extrapolation at ``n_big`` exceeds ``budget_s``, the quadratic estimators run side by side
    (dask vs in-memory) at the largest n whose estimate fits the budget, and the linear-time
    estimator runs at ``n_big``, again dask vs in-memory."""
    import dask
    import dask.array as da

    import divkit

    def data(n):
        rng = np.random.default_rng(n)
        x = rng.normal(size=(n, d))
        y = rng.normal(size=(n, d)) + 0.05
        return x, y

    estimates = []
    for n in estimate_sizes:
        x, y = data(n)
        divkit.mmd2(x[:100], y[:100], bandwidth=1.0)
        w, c, _ = timed(lambda x=x, y=y: divkit.mmd2(x, y, bandwidth=1.0))
        estimates.append({"n": n, "in_memory_s": w, "cpu_s": c})
        print(f"in-memory unbiased MMD^2 at n = {n}: {w:.3g} s wall, {c:.3g} s CPU", flush=True)
    per_pair = estimates[-1]["in_memory_s"] / estimate_sizes[-1] ** 2
    predicted = per_pair * n_big**2
    for e in estimates:
        e["predicted_s"] = per_pair * e["n"] ** 2
    print_table(estimates, ["n", "in_memory_s", "cpu_s", "predicted_s"],
                title=f"in-memory unbiased MMD^2 (d={d}): t = {per_pair:.3g} s * n^2 -> "
                      f"{predicted:.3g} s at n = {n_big:g}")
    rows = []

    def side_by_side(n, estimator, reps, warmup):
        x, y = data(n)
        X = da.from_array(x, chunks=(chunk, d))
        Y = da.from_array(y, chunks=(chunk, d))

        def on_dask():
            with dask.config.set(scheduler="threads"):
                return divkit.mmd2(X, Y, bandwidth=1.0, estimator=estimator)

        cands = {"dask_threads": on_dask,
                 "in_memory": lambda: divkit.mmd2(x, y, bandwidth=1.0, estimator=estimator)}
        rec = interleave(cands, reps, warmup)
        row = {"n": n, "estimator": estimator, "chunk": chunk,
               "in_memory_s": statistics.median(rec["in_memory"]["wall"]),
               "dask_threads_s": statistics.median(rec["dask_threads"]["wall"]),
               "in_memory_cpu_s": statistics.median(rec["in_memory"]["cpu"]),
               "dask_threads/in_memory": ratio(rec, "dask_threads", "in_memory"),
               "absdiff": abs(rec["dask_threads"]["value"] - rec["in_memory"]["value"])}
        rows.append(row)
        print_table([row], list(row), title=None)
        sys.stdout.flush()

    # the estimates compiled the kernels; a quadratic run at large n needs no warm-up
    if predicted <= budget_s:
        side_by_side(n_big, "unbiased", 1, False)
    else:
        n_fit = int(np.sqrt(budget_s / per_pair))
        n_q = max(e["n"] for e in estimates if e["n"] <= n_fit) if any(
            e["n"] <= n_fit for e in estimates) else estimate_sizes[0]
        side_by_side(n_q, "unbiased", 1, False)
        side_by_side(n_big, "linear", repeats, True)
    return {"estimates": estimates, "per_pair_s": per_pair, "predicted_big_s": predicted,
            "runs": rows}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-cluster", action="store_true")
    ap.add_argument("--mmd-large", action="store_true",
                    help="only the n = 1e6 MMD^2 part (estimate, then run what fits)")
    ap.add_argument("--budget", type=float, default=600.0,
                    help="seconds the quadratic MMD^2 may take at n = 1e6 (--mmd-large)")
    ap.add_argument("--estimate-sizes", default="10000,30000,100000",
                    help="sizes at which the in-memory quadratic MMD^2 is timed (--mmd-large)")
    ap.add_argument("--cases", default=None,
                    help="exact-W cases 'kind:N:n:d,...' (kind clouds or histograms; n, d ignored "
                         "for histograms), e.g. clouds:100:50:2,histograms:100:0:0")
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--no-mmd", action="store_true", help="skip the MMD^2 part")
    ap.add_argument("--no-pot", action="store_true",
                    help="leave out the ot.emd2 loop (the slowest candidate) on large cases")
    args = ap.parse_args()
    if args.mmd_large:
        sizes = [int(v) for v in args.estimate_sizes.split(",")]
        out = part2_large(1_000_000, 2, 100_000, sizes, args.budget, 3)
        write_json("pairwise_mmd_large", out)
        return
    if args.quick:
        cases = [("clouds", 100, 50, 2), ("clouds", 60, 50, 16), ("histograms", 100, 0, 0)]
        mmd_sizes = [(8000, True), (30000, True)]
        repeats = 3
    else:
        cases = [("clouds", 100, 50, 2), ("clouds", 300, 100, 2), ("clouds", 100, 500, 16),
                 ("clouds", 1000, 50, 2), ("histograms", 1000, 0, 0)]
        mmd_sizes = [(20000, True), (60000, True), (1_000_000, False)]
        repeats = 5

    if args.cases:
        cases = [(kind, int(N), int(n), int(d)) for kind, N, n, d in
                 (c.split(":") for c in args.cases.split(","))]
    if args.repeats:
        repeats = args.repeats
    if args.no_mmd:
        mmd_sizes = []

    # The anchors' OpenMP runtimes read OMP_NUM_THREADS when they are loaded, and
    # distributed.LocalCluster writes OMP_NUM_THREADS=1 (for its workers) into this process's
    # environment: imported after it, PairwiseEMD silently runs on one thread whatever its
    # num_threads says. Load them first and give the environment back afterwards.
    import ot  # noqa: F401
    import wasserstein  # noqa: F401

    client = cluster = None
    if not args.no_cluster:
        import os

        import distributed

        saved_env = dict(os.environ)
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=":0")
        client = distributed.Client(cluster)
        os.environ.clear()
        os.environ.update(saved_env)
    try:
        rows1 = part1(cases, repeats, client, with_pot=not args.no_pot)
        print_table(rows1, ["case", "threads", "divkit_s", "pemd_s", "pot_s", "divkit_cpu_s",
                            "pemd_cpu_s", "divkit_busy", "pemd_busy", "pemd/divkit",
                            "pot/divkit", "pemd/divkit_cpu", "maxdiff_pemd", "maxdiff_pot",
                            "same_bits_t1_t2"],
                    title="exact W_1 pairwise (ratios > 1: divkit faster; machine shared/loaded)")
        rows2 = part2(mmd_sizes, repeats, client, chunk=10000 if args.quick else 20000)
        if rows2:
            print_table(rows2, ["n", "chunk", "in_memory_s", "dask_threads_s", "dask_cluster_s",
                                "threads/in_memory", "cluster/in_memory", "absdiff"],
                        title="MMD^2 on dask arrays over the in-memory function (< 1.5 is the goal)")
    finally:
        if client is not None:
            client.close()
            cluster.close()
    write_json("pairwise", {"quick": args.quick, "exact_w": rows1, "mmd_dask": rows2})
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 3.5))
        labels = [f"{r['case']}\nt={r['threads']}" for r in rows1 if "pemd/divkit" in r]
        ax.bar(np.arange(len(labels)) - 0.2, [r["pemd/divkit"] for r in rows1 if "pemd/divkit" in r],
               0.4, label="PairwiseEMD / divkit")
        ax.bar(np.arange(len(labels)) + 0.2, [r["pot/divkit"] or 0.0 for r in rows1 if "pemd/divkit" in r],
               0.4, label="ot.emd2 loop / divkit")
        ax.axhline(1.0, color="k", lw=0.8)
        ax.set_xticks(np.arange(len(labels)), labels, fontsize=6)
        ax.set_ylabel("time ratio (>1: divkit faster)")
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(RESULTS_DIR / "pairwise.png", dpi=120)
    except ImportError:
        pass


if __name__ == "__main__":
    main()
