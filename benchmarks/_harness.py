"""Shared helpers for the benchmark scripts: interleaved timing, ratios, tables, JSON.

Machines are shared and noisy, so every benchmark runs divkit and its anchor side by side in
one process, interleaved over several repetitions, and reports the median of the per-repetition
ratios rather than absolute times alone.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def single_thread_env() -> None:
    """Pin BLAS/OpenMP/numba to one thread. Call before importing numpy or numba."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[var] = "1"


def time_once(fn, *args, **kwargs):
    """Wall time of one call, and its return value."""
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t0, out


def interleaved(candidates: dict, repeats: int = 5, warmup: bool = True) -> dict:
    """Run each zero-argument callable in ``candidates`` once per round, ``repeats`` rounds.

    Returns ``{name: {"times": [...], "cpu_times": [...], "median": s, "cpu_median": s,
    "value": last_return}}`` (wall and process CPU seconds). A warm-up round (not timed)
    compiles numba kernels and fills caches first.
    """
    if warmup:
        for fn in candidates.values():
            fn()
    out = {name: {"times": [], "cpu_times": [], "value": None} for name in candidates}
    for _ in range(repeats):
        for name, fn in candidates.items():
            c0 = time.process_time()
            dt, value = time_once(fn)
            out[name]["cpu_times"].append(time.process_time() - c0)
            out[name]["times"].append(dt)
            out[name]["value"] = value
    for rec in out.values():
        rec["median"] = statistics.median(rec["times"])
        rec["cpu_median"] = statistics.median(rec["cpu_times"])
    return out


def median_ratio(timings: dict, numerator: str, denominator: str, clock: str = "wall") -> float:
    """Median over rounds of ``t[numerator] / t[denominator]`` (paired per round), on the wall
    clock or (``clock="cpu"``) on process CPU time."""
    key = "times" if clock == "wall" else "cpu_times"
    num = timings[numerator][key]
    den = timings[denominator][key]
    return statistics.median(n / d for n, d in zip(num, den))


def print_table(rows: list[dict], columns: list[str], title: str | None = None) -> None:
    """Aligned plain-text table; floats get 4 significant digits."""

    def fmt(v):
        if isinstance(v, float):
            return f"{v:.4g}"
        return str(v)

    cells = [[fmt(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    if title:
        print(title)
    print("  ".join(c.rjust(w) for c, w in zip(columns, widths)))
    for row in cells:
        print("  ".join(v.rjust(w) for v, w in zip(row, widths)))


def machine_info() -> dict:
    import numpy

    info = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "numpy": numpy.__version__,
    }
    for mod in ("scipy", "numba", "ot", "torch"):
        try:
            info[mod] = __import__(mod).__version__
        except ImportError:
            pass
    return info


def write_json(name: str, payload: dict) -> Path:
    """Write ``payload`` (plus machine info) to ``benchmarks/results/NAME.json``."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    payload = {"machine": machine_info(), **payload}
    path.write_text(json.dumps(payload, indent=2, default=float))
    print(f"wrote {path}")
    return path


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB (Linux)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
