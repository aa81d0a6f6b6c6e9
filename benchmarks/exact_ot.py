"""Exact W_1 between 2-D point clouds: divkit's primal and dual LP against scipy and POT.

    python benchmarks/exact_ot.py            # n = 100, 300, 1000 (scipy takes minutes at 1000)
    python benchmarks/exact_ot.py --quick    # n = 50, 100
    python benchmarks/exact_ot.py --suite all   # also the network-simplex sections (below)

``--suite simplex`` (or ``all``) runs ``benchmarks/network_simplex.py``: divkit's network simplex
(the default exact solver) against POT at n = 1000, 2000, 4000, n = 8000 to optimality,
on-the-fly costs at n = 20000, the batch solver and warm starts.

Every candidate computes W_1 with Euclidean ground cost between two uniform clouds of n points
in [0, 1]^2, including building its cost matrix:

- divkit primal LP   ``wasserstein(x, y, p=1, method="highs-primal")`` (HiGHS dual simplex)
- divkit dual LP     ``wasserstein(x, y, p=1, method="highs-dual")`` (HiGHS IPM + crossover)
- scipy              ``scipy.stats.wasserstein_distance_nd(x, y)`` (the dual LP through HiGHS
  ``milp``, default tolerances, no potentials, no certificate)
- POT                ``ot.emd2(a, b, ot.dist(x, y, "euclidean"))`` (network simplex)

Timings are interleaved per repetition on one thread; ratios are medians of per-repetition
ratios. The section layout (one function per section, ``main`` collecting them) leaves room for
more solvers.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _harness import (  # noqa: E402
    RESULTS_DIR,
    interleaved,
    median_ratio,
    print_table,
    single_thread_env,
    write_json,
)

single_thread_env()

import numpy as np  # noqa: E402


def _clouds(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 2)), rng.random((n, 2))


def _repeats_for(n: int, quick: bool) -> int:
    if quick:
        return 2
    return 5 if n <= 100 else 3 if n <= 300 else 1


def lp_section(sizes, quick: bool) -> list[dict]:
    """divkit primal LP and dual LP vs scipy's wasserstein_distance_nd and POT's emd2."""
    import ot
    from scipy.stats import wasserstein_distance_nd

    from divkit import wasserstein

    rows = []
    for idx, n in enumerate(sizes):
        x, y = _clouds(n)
        a = np.full(n, 1.0 / n)
        candidates = {
            "divkit_primal": lambda: wasserstein(x, y, p=1, method="highs-primal"),
            "divkit_dual": lambda: wasserstein(x, y, p=1, method="highs-dual"),
            "scipy_nd": lambda: float(wasserstein_distance_nd(x, y)),
            "pot_emd2": lambda: float(ot.emd2(a, a, ot.dist(x, y, metric="euclidean"))),
        }
        # numba kernels compile on the first (smallest) size; later sizes need no warm-up round
        t = interleaved(candidates, repeats=_repeats_for(n, quick), warmup=idx == 0)
        ref = t["divkit_primal"]["value"]
        row = {
            "n": n,
            "repeats": len(t["divkit_primal"]["times"]),
            **{f"{k}_s": v["median"] for k, v in t.items()},
            "primal/scipy": median_ratio(t, "divkit_primal", "scipy_nd"),
            "dual/scipy": median_ratio(t, "divkit_dual", "scipy_nd"),
            "primal/pot": median_ratio(t, "divkit_primal", "pot_emd2"),
            "dual/pot": median_ratio(t, "divkit_dual", "pot_emd2"),
            "W1": ref,
            "max_rel_diff": max(abs(v["value"] - ref) / ref for v in t.values()),
        }
        rows.append(row)
        print_table([row], list(row), title=f"n = {n}")
        sys.stdout.flush()
    return rows


def _plot(rows, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ns = [r["n"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 4))
    for key, label in [("divkit_primal_s", "divkit primal LP"), ("divkit_dual_s", "divkit dual LP"),
                       ("scipy_nd_s", "scipy wasserstein_distance_nd"), ("pot_emd2_s", "POT emd2")]:
        ax.loglog(ns, [r[key] for r in rows], "o-", label=label)
    ax.set_xlabel("n = m (2-D points)")
    ax.set_ylabel("median wall time [s]")
    ax.set_title("Exact W1, one thread")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes (n = 50, 100), 2 repetitions")
    parser.add_argument("--suite", choices=("lp", "simplex", "all"), default="lp",
                        help="lp: primal/dual LP vs scipy and POT; simplex: benchmarks/network_simplex.py")
    args = parser.parse_args(argv)
    if args.suite in ("simplex", "all"):
        import subprocess

        script = Path(__file__).resolve().parent / "network_simplex.py"
        subprocess.run([sys.executable, str(script), *(["--quick"] if args.quick else [])], check=True)
        if args.suite == "simplex":
            return 0
    sizes = [50, 100] if args.quick else [100, 300, 1000]
    lp_rows = lp_section(sizes, args.quick)
    columns = ["n", "repeats", "divkit_primal_s", "divkit_dual_s", "scipy_nd_s", "pot_emd2_s",
               "primal/scipy", "dual/scipy", "primal/pot", "dual/pot", "max_rel_diff"]
    print_table(lp_rows, columns, title="\nExact W1 (LP): median times and median ratios (< 1: divkit faster)")
    name = "exact_ot_quick" if args.quick else "exact_ot"
    write_json(name, {"lp": lp_rows})
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    _plot(lp_rows, RESULTS_DIR / f"{name}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
