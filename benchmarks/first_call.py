"""First-call time of a fresh process: cold (empty NUMBA_CACHE_DIR) and warm (cache filled).

Each measurement is one new Python process that imports numpy and divkit and makes one call;
the time is the whole process (start-up, imports, kernel compilation or cache loading, the call),
measured from outside with ``time.perf_counter`` around ``subprocess.run``; CPU time is the
child's user + system time (``resource.RUSAGE_CHILDREN``). Every call gets its **own** empty
cache directory for its cold runs (a fresh one per repetition), and its warm runs reuse the
directory its last cold run filled, so no call profits from another's kernels.

Floors, run the same way: ``python -c pass``, ``import numpy``, ``import numba``, and a process
that loads one trivial cached ``@njit`` kernel (numba's own fixed cost: importing numba and
initialising its typing and target registries, which also imports ``scipy.linalg`` for numba's
BLAS check). No numba-based first call can be faster than that last floor.

``--compare DIR`` times a second checkout (e.g. the main branch) in the same runs, interleaved,
and reports its medians and the ratio this tree / that tree side by side.

``python benchmarks/first_call.py [--quick] [--cold N] [--warm N] [--compare DIR]`` (quick: 1 cold
and 3 warm runs per call instead of 3 and 5). NUMBA_NUM_THREADS is pinned to 1 in the children. Runs interleave the
calls (and trees) so machine load spreads evenly.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import print_table, write_json  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

# the inputs of issue 14's measurements: small, so that the time is compilation and start-up
SETUP = (
    "import numpy as np\n"
    "rng = np.random.default_rng(0)\n"
    "x, y = rng.normal(size=(50, 2)), rng.normal(size=(60, 2))\n"
    "a, b = np.full(50, 1 / 50), np.full(60, 1 / 60)\n"
    "C = rng.random((50, 60))\n"
)
CALLS = {
    "kl": "import divkit; divkit.kl([0.5, 0.5], [0.25, 0.75])",
    "mmd2": "import divkit; divkit.mmd2(x, y, 'gaussian', 1.0)",
    "emd": "import divkit; divkit.emd(a, b, C)",
    "wasserstein": "import divkit; divkit.wasserstein(x, y)",
}
TRIVIAL_KERNEL = (
    "from numba import njit\n"
    "@njit(cache=True)\n"
    "def one(x):\n"
    "    return x + 1.0\n"
)
FLOORS = {
    "floor: python -c pass": "pass",
    "floor: import numpy": "import numpy",
    "floor: import numba": "import numpy, numba",
    "floor: one cached njit kernel": "import numpy; import _first_call_floor; _first_call_floor.one(1.0)",
}


def run_once(code: str, cache_dir: str, root: Path, floor_dir: str) -> tuple[float, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    env["NUMBA_CACHE_DIR"] = cache_dir
    env["NUMBA_NUM_THREADS"] = "1"
    env["PYTHONPATH"] = os.pathsep.join([str(root), floor_dir, env.get("PYTHONPATH", "")])
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", SETUP + code], env=env, check=True, cwd=root)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--compare", type=Path, help="a second checkout to time side by side (e.g. main)")
    parser.add_argument("--calls", nargs="+", choices=list(CALLS), default=list(CALLS))
    parser.add_argument("--cold", type=int, help="cold runs per call (default 3, quick 1)")
    parser.add_argument("--warm", type=int, help="warm runs per call (default 5, quick 3)")
    args = parser.parse_args()
    n_cold, n_warm = (1, 3) if args.quick else (3, 5)
    n_cold, n_warm = args.cold or n_cold, args.warm or n_warm
    trees = {"this": ROOT}
    if args.compare is not None:
        trees["compare"] = args.compare.resolve()
    calls = {name: CALLS[name] for name in args.calls}
    cold: dict = {(t, c): [] for t in trees for c in calls}
    warm: dict = {(t, c): [] for t in trees for c in list(calls) + list(FLOORS)}
    with tempfile.TemporaryDirectory() as tmp:
        floor_dir = os.path.join(tmp, "floor")
        os.makedirs(floor_dir)
        Path(floor_dir, "_first_call_floor.py").write_text(TRIVIAL_KERNEL)
        last_dir = {}
        for rep in range(n_cold):
            for name, code in calls.items():
                for tree, root in trees.items():
                    cache = os.path.join(tmp, f"{tree}-{name}-{rep}")
                    cold[tree, name].append(run_once(code, cache, root, floor_dir))
                    last_dir[tree, name] = cache
        floor_cache = os.path.join(tmp, "floor-cache")
        run_once(FLOORS["floor: one cached njit kernel"], floor_cache, ROOT, floor_dir)  # fill it
        for _ in range(n_warm):
            for name, code in list(calls.items()) + list(FLOORS.items()):
                for tree, root in trees.items():
                    cache = last_dir.get((tree, name), floor_cache)
                    warm[tree, name].append(run_once(code, cache, root, floor_dir))
    rows = []
    for name in list(calls) + list(FLOORS):
        for tree in trees:
            row = {"call": name, "tree": str(trees[tree]) if tree == "compare" else "this"}
            for label, data in (("cold", cold.get((tree, name))), ("warm", warm[tree, name])):
                if data:
                    row[f"{label} wall (s)"] = statistics.median(w for w, _ in data)
                    row[f"{label} cpu (s)"] = statistics.median(c for _, c in data)
            if tree == "compare":
                for label in ("cold", "warm"):
                    for kind in ("wall", "cpu"):
                        key = f"{label} {kind} (s)"
                        if key in row:
                            rows[-1][f"{label} {kind} this/compare"] = rows[-1][key] / row[key]
            rows.append(row)
    columns = ["call", "tree", "cold wall (s)", "cold cpu (s)", "warm wall (s)", "warm cpu (s)"]
    if "compare" in trees:
        columns += ["cold cpu this/compare", "warm cpu this/compare"]
    print_table(rows, columns, title=f"first call in a fresh process ({n_cold} cold, {n_warm} warm runs, medians)")
    write_json("first_call", {"rows": rows, "cold_runs": n_cold, "warm_runs": n_warm, "setup": SETUP,
                              "trees": {k: str(v) for k, v in trees.items()}})


if __name__ == "__main__":
    main()
