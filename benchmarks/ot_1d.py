"""Exact 1-D W_1 at n = 10^6: divkit against scipy, POT and the sort floor.

    python benchmarks/ot_1d.py            # n = 10^6
    python benchmarks/ot_1d.py --quick    # n = 10^5

Candidates (two samples of n standard normals, the second shifted):

- divkit   ``wasserstein_1d(u, v)`` (two sorts, one numba merge pass)
- floor    numpy: ``np.mean(np.abs(np.sort(u) - np.sort(v)))``: the two sorts are unavoidable,
  so this is the cost floor for equal-size unweighted samples
- scipy    ``scipy.stats.wasserstein_distance(u, v)``
- POT      ``ot.wasserstein_1d(u, v, p=1)`` (returns W_p^p; equal to W_1 for p = 1)

A weighted section (random weights, the same n) compares divkit with scipy and POT, which both
accept weights. Acceptance: divkit within 1.3x of the floor unweighted, and at least 10x faster
than scipy. Timings are interleaved, one thread, medians of per-repetition ratios.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _harness import interleaved, median_ratio, print_table, single_thread_env, write_json  # noqa: E402

single_thread_env()

import numpy as np  # noqa: E402


def _samples(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=n), rng.normal(size=n) + 0.5, rng.random(n), rng.random(n)


def unweighted_section(n: int, repeats: int) -> dict:
    import ot
    from scipy.stats import wasserstein_distance

    from divkit import wasserstein_1d

    u, v, _, _ = _samples(n)
    t = interleaved(
        {
            "divkit": lambda: wasserstein_1d(u, v),
            "floor": lambda: float(np.mean(np.abs(np.sort(u) - np.sort(v)))),
            "scipy": lambda: float(wasserstein_distance(u, v)),
            "pot": lambda: float(ot.wasserstein_1d(u, v, p=1)),
        },
        repeats=repeats,
    )
    ref = t["scipy"]["value"]
    return {
        "case": "unweighted",
        "n": n,
        **{f"{k}_s": rec["median"] for k, rec in t.items()},
        "divkit/floor": median_ratio(t, "divkit", "floor"),
        "scipy/divkit": median_ratio(t, "scipy", "divkit"),
        "pot/divkit": median_ratio(t, "pot", "divkit"),
        "max_rel_diff": max(abs(rec["value"] - ref) / ref for rec in t.values()),
    }


def weighted_section(n: int, repeats: int) -> dict:
    import ot
    from scipy.stats import wasserstein_distance

    from divkit import wasserstein_1d

    u, v, uw, vw = _samples(n)
    uw = uw / uw.sum()
    vw = vw / vw.sum()
    t = interleaved(
        {
            "divkit": lambda: wasserstein_1d(u, v, uw, vw),
            "scipy": lambda: float(wasserstein_distance(u, v, uw, vw)),
            "pot": lambda: float(ot.wasserstein_1d(u, v, uw, vw, p=1)),
        },
        repeats=repeats,
    )
    ref = t["scipy"]["value"]
    return {
        "case": "weighted",
        "n": n,
        **{f"{k}_s": rec["median"] for k, rec in t.items()},
        "scipy/divkit": median_ratio(t, "scipy", "divkit"),
        "pot/divkit": median_ratio(t, "pot", "divkit"),
        "max_rel_diff": max(abs(rec["value"] - ref) / ref for rec in t.values()),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="n = 10^5, 3 repetitions")
    args = parser.parse_args(argv)
    n = 10**5 if args.quick else 10**6
    repeats = 3 if args.quick else 9
    rows = [unweighted_section(n, repeats), weighted_section(n, repeats)]
    columns = ["case", "n", "divkit_s", "floor_s", "scipy_s", "pot_s", "divkit/floor", "scipy/divkit",
               "pot/divkit", "max_rel_diff"]
    print_table(rows, columns, title="1-D W1: median times; divkit/floor (accept <= 1.3), scipy/divkit (accept >= 10)")
    ok_floor = rows[0]["divkit/floor"] <= 1.3
    ok_scipy = rows[0]["scipy/divkit"] >= 10
    print(f"acceptance: within 1.3x of the floor: {ok_floor}; >= 10x faster than scipy: {ok_scipy}")
    write_json("ot_1d_quick" if args.quick else "ot_1d", {"rows": rows, "accept_floor": ok_floor,
                                                          "accept_scipy": ok_scipy})
    return 0


if __name__ == "__main__":
    sys.exit(main())
