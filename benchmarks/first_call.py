"""First-call time of a fresh process: cold (empty NUMBA_CACHE_DIR) and warm (cache filled).

Each measurement is one new Python process that imports numpy and divkit and makes one call;
the time is the whole process (start-up, imports, kernel compilation or cache loading, the call),
measured from outside with ``time.perf_counter`` around ``subprocess.run``; CPU time is the
child's user + system time. The anchor is a process that only imports numpy and scipy and does
the same input set-up: ``divkit / anchor`` is the factor a first divkit answer costs.

``python benchmarks/first_call.py [--quick]`` (quick: 1 cold and 3 warm runs per function instead
of 2 and 5). Runs interleave the functions so machine load spreads evenly.
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

SETUP = (
    "import numpy as np\n"
    "rng = np.random.default_rng(0)\n"
    "x, y = rng.normal(size=(100, 2)), rng.normal(size=(120, 2)) + 1.0\n"
    "a, b = np.full(100, 1 / 100), np.full(120, 1 / 120)\n"
    "C = ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)\n"
    "p = rng.random(1000); p /= p.sum(); q = rng.random(1000); q /= q.sum()\n"
)
CALLS = {
    "wasserstein": "import divkit; divkit.wasserstein(x, y, p=1)",
    "emd": "import divkit; divkit.emd(a, b, C)",
    "mmd2": "import divkit; divkit.mmd2(x, y, 'gaussian', 1.0)",
    "kl": "import divkit; divkit.kl(p, q)",
    "anchor (numpy + scipy import)": "import scipy.special, scipy.optimize",
}


def run_once(code: str, cache_dir: str) -> tuple[float, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_CACHE")}
    env["NUMBA_CACHE_DIR"] = cache_dir
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", SETUP + code], env=env, check=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n_cold, n_warm = (1, 3) if args.quick else (2, 5)
    cold: dict = {name: [] for name in CALLS}
    warm: dict = {name: [] for name in CALLS}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(n_cold):
            dirs = {name: os.path.join(tmp, f"{i}-{rep}") for i, name in enumerate(CALLS)}
            for name, code in CALLS.items():
                cold[name].append(run_once(code, dirs[name]))
            for _ in range(n_warm if rep == n_cold - 1 else 0):
                for name, code in CALLS.items():
                    warm[name].append(run_once(code, dirs[name]))
    rows = []
    anchor = "anchor (numpy + scipy import)"
    for name in CALLS:
        row = {"call": name}
        for label, data in (("cold", cold[name]), ("warm", warm[name])):
            row[f"{label} wall (s)"] = statistics.median(w for w, _ in data)
            row[f"{label} cpu (s)"] = statistics.median(c for _, c in data)
        row["warm / anchor"] = statistics.median(w / a for (w, _), (a, _) in zip(warm[name], warm[anchor]))
        rows.append(row)
    columns = ["call", "cold wall (s)", "cold cpu (s)", "warm wall (s)", "warm cpu (s)", "warm / anchor"]
    print_table(rows, columns, title=f"first call in a fresh process ({n_cold} cold, {n_warm} warm runs, medians)")
    write_json("first_call", {"rows": rows, "cold_runs": n_cold, "warm_runs": n_warm, "setup": SETUP})


if __name__ == "__main__":
    main()
