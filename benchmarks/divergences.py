"""KL and JS on large histograms: divkit against scipy, single-threaded, interleaved.

    python benchmarks/divergences.py            # 10^7 bins (acceptance), sweep 10^5..10^7
    python benchmarks/divergences.py --quick    # 10^5 bins

Anchors: ``scipy.special.rel_entr(p, q).sum()`` for KL and
``scipy.spatial.distance.jensenshannon(p, q) ** 2`` for JS. For each, the table shows the
median times, the median of the per-round ratios divkit / scipy (< 1: divkit faster), the
values' difference, and the extra memory each side needs beyond its inputs:

- ``tracemalloc`` peak: bytes numpy allocated during one call (scipy's temporaries);
- NRT allocations: how many arrays numba kernels allocated during one call (divkit's
  kernels allocate only per-histogram outputs, never an array of the input's size);
- peak-RSS growth over the whole timed run (an n-sized float64 temporary would add 8 n bytes).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _harness import RESULTS_DIR, interleaved, median_ratio, peak_rss_mib, print_table, single_thread_env, write_json  # noqa: E402

single_thread_env()
os.environ["NUMBA_NRT_STATS"] = "1"  # count kernel allocations (must precede importing numba)

import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402
from numba.core.runtime import rtsys  # noqa: E402
from scipy.spatial.distance import jensenshannon  # noqa: E402
from scipy.special import rel_entr  # noqa: E402

import divkit  # noqa: E402


def histograms(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    p = rng.random(n)
    q = rng.random(n)
    p[rng.random(n) < 0.01] = 0.0  # some empty bins, as real histograms have
    p /= p.sum()
    q /= q.sum()
    return p, q


def extra_memory(fn):
    """(numpy bytes allocated at peak, numba NRT allocations) during one call of ``fn``."""
    before = rtsys.get_allocation_stats().alloc
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak, rtsys.get_allocation_stats().alloc - before


def compare(n: int, repeats: int):
    p, q = histograms(n)
    candidates = {
        "divkit.kl": lambda: divkit.kl(p, q),
        "scipy rel_entr.sum": lambda: float(rel_entr(p, q).sum()),
        "divkit.js": lambda: divkit.js(p, q),
        "scipy jensenshannon**2": lambda: float(jensenshannon(p, q) ** 2),
    }
    rss_before = peak_rss_mib()
    # divkit first, so that the RSS high-water mark shows divkit's own growth
    t_div = interleaved({k: v for k, v in candidates.items() if k.startswith("divkit")}, repeats)
    rss_divkit = peak_rss_mib() - rss_before
    timings = interleaved(candidates, repeats)
    rss_all = peak_rss_mib() - rss_before
    rows = []
    for name, div, ref in (("KL", "divkit.kl", "scipy rel_entr.sum"),
                           ("JS", "divkit.js", "scipy jensenshannon**2")):
        mem_div = extra_memory(candidates[div])
        mem_ref = extra_memory(candidates[ref])
        rows.append({
            "measure": name,
            "n": n,
            "divkit_s": timings[div]["median"],
            "scipy_s": timings[ref]["median"],
            "ratio": median_ratio(timings, div, ref),
            "abs_diff": abs(timings[div]["value"] - timings[ref]["value"]),
            "divkit_np_bytes": mem_div[0],
            "divkit_nrt_allocs": mem_div[1],
            "scipy_np_bytes": mem_ref[0],
            "input_bytes": p.nbytes,
        })
    del t_div
    return rows, {"rss_growth_divkit_only_mib": rss_divkit, "rss_growth_with_scipy_mib": rss_all}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10^5 bins, 3 rounds")
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 7)
    sizes = [10**5] if args.quick else [10**7]

    # compile or load the kernels outside the measurements
    divkit.kl([0.5, 0.5], [0.5, 0.5])
    divkit.js([0.5, 0.5], [0.5, 0.5])

    rows, rss = [], {}
    for n in sizes:
        r, rss[n] = compare(n, repeats)
        rows += r
    columns = ["measure", "n", "divkit_s", "scipy_s", "ratio", "abs_diff", "divkit_np_bytes",
               "divkit_nrt_allocs", "scipy_np_bytes", "input_bytes"]
    print_table(rows, columns, title="divkit vs scipy, single-threaded "
                "(ratio = median over rounds of divkit time / scipy time; < 1 is faster)")
    for n, growth in rss.items():
        print(f"n={n}: peak-RSS growth during divkit-only rounds "
              f"{growth['rss_growth_divkit_only_mib']:.1f} MiB, after the scipy rounds "
              f"{growth['rss_growth_with_scipy_mib']:.1f} MiB (one float64 temporary = "
              f"{8 * n / 2**20:.1f} MiB)")

    sweep = []
    if not args.quick:
        for n in (10**5, 10**6, 3 * 10**6):
            r, _ = compare(n, repeats)
            sweep += r
        print_table(sweep, columns[:6], title="size sweep")
        plot(rows + sweep)
    write_json("divergences", {"repeats": repeats, "rows": rows, "sweep": sweep,
                               "rss_growth_mib": {str(k): v for k, v in rss.items()}})
    ok = all(r["ratio"] <= 1.0 and r["divkit_np_bytes"] < r["input_bytes"] // 100 for r in rows)
    print("acceptance (divkit at least as fast, no input-sized temporaries):",
          "met" if ok else "NOT met")
    return 0


def plot(rows):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for measure in ("KL", "JS"):
        pts = sorted((r["n"], r["ratio"]) for r in rows if r["measure"] == measure)
        ax.plot([n for n, _ in pts], [v for _, v in pts], marker="o", label=measure)
    ax.axhline(1.0, color="grey", lw=0.8, ls="--")
    ax.set_xscale("log")
    ax.set_xlabel("bins")
    ax.set_ylabel("time divkit / scipy")
    ax.set_title("single-threaded, median of interleaved rounds")
    ax.legend()
    fig.tight_layout()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / "divergences.png"
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
