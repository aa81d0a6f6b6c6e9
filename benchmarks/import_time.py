"""How long ``import divkit`` takes, against ``import numpy`` as the anchor.

Each measurement is a fresh interpreter (``python -X importtime``), interleaved, medians over
repetitions. Also shows the first-call cost of a kernel (cached numba compile) for reference.

    python benchmarks/import_time.py [--repeats N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from _harness import print_table, write_json


def _fresh(code: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    cases = {
        "python (empty)": "pass",
        "import numpy": "import numpy",
        "import divkit": "import divkit",
        "divkit.kl first call": "import divkit; divkit.kl([0.5, 0.5], [0.25, 0.75])",
    }
    times = {k: [] for k in cases}
    for code in cases.values():  # warm OS caches and numba's on-disk cache
        _fresh(code)
    for _ in range(args.repeats):
        for name, code in cases.items():
            times[name].append(_fresh(code))
    base = statistics.median(times["python (empty)"])
    numpy_cost = statistics.median(times["import numpy"]) - base
    rows = []
    for name, ts in times.items():
        med = statistics.median(ts)
        ratio = (med - base) / numpy_cost
        rows.append({"case": name, "median_s": med, "over_empty_s": med - base, "ratio_to_numpy": ratio})
    print_table(rows, ["case", "median_s", "over_empty_s", "ratio_to_numpy"], title="Import time (fresh interpreters)")
    write_json("import_time", {"rows": rows, "repeats": args.repeats})


if __name__ == "__main__":
    main()
