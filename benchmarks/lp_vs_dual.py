"""Exact LP values versus dual (critic) and variational estimates of W1, W2 and f-divergences.

For pairs with known answers, report the exact primal LP, the exact dual LP, divkit's fast
exact solver, sliced W, WGAN critics (weight clipping, gradient penalty, GP + c-transform) and
f-GAN lower bounds: the estimate, its relative error against the exact value, and the time.

Problems
--------
* WGAN Example 1 (Arjovsky et al. 2017): P = (0, Z), Q = (theta, Z), Z ~ U[0,1]; W1 = |theta|.
* Gaussians N(0, I) vs N(m, S): W2 by the Bures formula (divkit.gaussian.w2) and KL and
  squared Hellinger in closed form (divkit.gaussian.kl; Hellinger from the Bhattacharyya
  coefficient).
* Sampled point clouds in d = 2, 8, 32 at n = 256, 1024, 4096 (N(0, I) vs a shifted, scaled
  Gaussian): the reference is the exact W1 between the two samples (divkit.emd).

Sliced W is a different distance (an average over 1-D projections, below W): its "error" column
measures how far it is from W, not a solver error. The untrained baseline "c-transform of f = 0"
shows how much of the c-transform refinement's accuracy the trained critic actually contributes.

Usage::

    python benchmarks/lp_vs_dual.py --quick          # a few minutes on a CPU
    python benchmarks/lp_vs_dual.py --device cuda    # critics on a GPU

Prints a table, writes benchmarks/results/lp_vs_dual.json and plots error and time against n and
d (benchmarks/results/lp_vs_dual.png). The HiGHS primal and dual LPs take tens of seconds at
n = 1024, so they run only up to ``--lp-max-n`` (256 with --quick, 1024 otherwise); the fast
exact solver (network simplex) runs at every size.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _harness import RESULTS_DIR, interleaved, median_ratio, print_table, write_json  # noqa: E402

try:
    from tqdm.auto import tqdm
except ImportError:  # optional dependency

    def tqdm(iterable, **_):
        return iterable


import torch  # noqa: E402

import divkit  # noqa: E402
from divkit.torch import c_transform_refinement, critic_wasserstein, variational_f_divergence  # noqa: E402

COLUMNS = [
    "problem", "setting", "n", "d", "quantity", "method", "estimate", "reference", "ref_source", "rel_error", "time_s",
    "note",
]  # fmt: skip


# ---------------------------------------------------------------------------------------------
# problems
# ---------------------------------------------------------------------------------------------


def parallel_segments(theta, n, rng):
    z1, z2 = rng.uniform(size=n), rng.uniform(size=n)
    return np.column_stack([np.zeros(n), z1]), np.column_stack([np.full(n, theta), z2])


def gaussian_params(d):
    """N(0, I) vs N(m, S) with ||m|| = 1 and S = diag(1 .. 2).

    Q is wider than P in every direction, so dP/dQ is bounded and chi^2(P || Q) is finite: with
    a narrower Q the f-GAN KL objective has infinite variance and no sample size rescues it.
    """
    mean = np.full(d, 1.0 / math.sqrt(d))
    cov = np.diag(np.linspace(1.0, 2.0, d)) if d > 1 else np.array([[1.5]])
    return np.zeros(d), np.eye(d), mean, cov


def gaussian_references(d):
    """Closed forms from divkit.gaussian (themselves tested against quadrature and Monte Carlo)."""
    m1, S1, m2, S2 = gaussian_params(d)
    refs = {
        "W2": divkit.gaussian.w2(m1, S1, m2, S2),
        "KL": divkit.gaussian.kl(m1, S1, m2, S2),
        "squared_hellinger": divkit.gaussian.squared_hellinger(m1, S1, m2, S2),
    }
    notes = {k: f"divkit.gaussian.{'w2' if k == 'W2' else k.lower()}" for k in refs}
    return refs, notes


# ---------------------------------------------------------------------------------------------
# methods
# ---------------------------------------------------------------------------------------------


def timed(fn):
    t0 = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - t0


def exact_rows(x, y, p, lp_max_n, base, reference):
    """Primal LP, dual LP, fast exact solver, sliced W and POT (anchor) for W_p."""
    rows = []
    n = x.shape[0]
    a, b = np.full(n, 1.0 / n), np.full(y.shape[0], 1.0 / y.shape[0])
    metric = "euclidean" if p == 1 else "sqeuclidean"
    C = divkit.cost_matrix(x, y, metric=metric)
    values = {}
    for method, label in (("highs-primal", "exact primal LP"), ("highs-dual", "exact dual LP"), ("auto", "fast exact")):
        row = dict(base, method=label, reference=reference)
        if method != "auto" and n > lp_max_n:
            rows.append(dict(row, note=f"skipped: n > --lp-max-n={lp_max_n}"))
            continue
        res, dt = timed(lambda: divkit.emd(a, b, C, method=method))
        values[label] = res.cost ** (1.0 / p)
        rows.append(dict(row, estimate=values[label], time_s=dt))
    sw, dt = timed(lambda: divkit.sliced_wasserstein(x, y, p=p, n_projections=200, rng=0))
    rows.append(dict(base, method="sliced W (200 proj.)", estimate=float(sw), reference=reference, time_s=dt))
    try:
        import ot

        pot, dt = timed(lambda: ot.emd2(a, b, C, numItermax=10**7))
        row = dict(base, method="POT emd2 (anchor)", estimate=float(pot) ** (1.0 / p), reference=reference, time_s=dt)
        if "fast exact" in values:
            timings = interleaved(
                {
                    "divkit": lambda: divkit.emd(a, b, C, method="auto"),
                    "pot": lambda: ot.emd2(a, b, C, numItermax=10**7),
                },
                repeats=3,
            )
            row["note"] = f"divkit/POT time ratio {median_ratio(timings, 'divkit', 'pot'):.3g} (median of 3)"
        rows.append(row)
    except ImportError:
        pass
    return rows, values


def critic_rows(x, y, base, reference, device, steps):
    rows = []
    xt = torch.as_tensor(x, dtype=torch.float32, device=device)
    yt = torch.as_tensor(y, dtype=torch.float32, device=device)
    for constraint, label in (("clip", "critic (clip)"), ("gp", "critic (GP)")):
        refine = constraint == "gp"
        res, dt = timed(
            lambda: _sync(critic_wasserstein(xt, yt, constraint=constraint, n_steps=steps, c_transform=refine))
        )
        rows.append(dict(base, method=label, estimate=res.estimate.item(), reference=reference, time_s=dt,
                         note=f"{steps} steps; max grad norm {res.gradient_norm.item():.3g}"))
        if refine:
            rows.append(dict(base, method="critic (GP) + c-transform", estimate=res.refined_estimate.item(),
                             reference=reference, time_s=dt, note="time includes training"))
    # Baseline: the double c-transform of the zero potential, no training at all
    zero, dt = timed(lambda: _sync(c_transform_refinement(xt, yt, torch.zeros(xt.shape[0], device=device))))
    rows.append(dict(base, method="c-transform of f = 0", estimate=zero.item(), reference=reference, time_s=dt,
                     note="untrained baseline"))
    return rows


def _sync(result):
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return result


def fgan_rows(x, y, base, references, device, steps):
    rows = []
    xt = torch.as_tensor(x, dtype=torch.float32, device=device)
    yt = torch.as_tensor(y, dtype=torch.float32, device=device)
    for name, quantity in (("kl", "KL"), ("squared_hellinger", "squared_hellinger")):
        for holdout in (0.0, 0.5):
            res, dt = timed(lambda: _sync(variational_f_divergence(xt, yt, name, n_steps=steps, holdout=holdout)))
            where = "held-out half" if holdout else "in-sample"
            rows.append(dict(base, quantity=quantity, method=f"f-GAN bound ({name}, {where})",
                             estimate=res.estimate.item(), reference=references[quantity], time_s=dt,
                             note=f"{steps} steps; s.e. {res.standard_error.item():.2g}"))
    return rows


def with_errors(rows):
    for row in rows:
        est, ref = row.get("estimate"), row.get("reference")
        if est is not None and ref not in (None, 0):
            row["rel_error"] = (est - ref) / abs(ref)
    return rows


# ---------------------------------------------------------------------------------------------
# driver
# ---------------------------------------------------------------------------------------------


def run(args):
    device = torch.device(args.device)
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    rows = []
    thetas = (0.25, 0.5, 1.0)
    sizes = (256, 1024) if args.quick else (256, 1024, 4096)
    dims = (2, 8, 32)
    steps = args.steps or (300 if args.quick else 2000)
    example_n = 1024

    jobs = [("example1", th) for th in thetas]
    jobs += [("gaussian", d) for d in ((2, 8) if args.quick else (2, 8, 32))]
    jobs += [("clouds", (d, n)) for d in dims for n in sizes]
    for kind, setting in tqdm(jobs, desc="lp_vs_dual"):
        if kind == "example1":
            x, y = parallel_segments(setting, example_n, rng)
            base = dict(problem="WGAN example 1", setting=f"theta={setting}", n=example_n, d=2, quantity="W1",
                        ref_source="|theta|")
            exact, _ = exact_rows(x, y, 1, args.lp_max_n, base, reference=abs(setting))
            rows += exact + critic_rows(x, y, base, abs(setting), device, steps)
        elif kind == "gaussian":
            d = setting
            m1, S1, m2, S2 = gaussian_params(d)
            n = 4096
            x = rng.multivariate_normal(m1, S1, size=n)
            y = rng.multivariate_normal(m2, S2, size=n)
            refs, notes = gaussian_references(d)
            base = dict(problem="Gaussians", setting="N(0,I) vs N(m,S)", n=n, d=d, quantity="W2")
            exact, _ = exact_rows(x, y, 2, args.lp_max_n, dict(base, ref_source=notes["W2"]), reference=refs["W2"])
            fgan = fgan_rows(x, y, base, refs, device, steps)
            for row in fgan:
                row["ref_source"] = notes[row["quantity"]]
            rows += exact + fgan
        else:
            d, n = setting
            x = rng.normal(size=(n, d))
            y = 0.8 * rng.normal(size=(n, d)) + 1.0 / math.sqrt(d)
            base = dict(problem="point clouds", setting="N(0,I) vs N(m,0.64 I)", n=n, d=d, quantity="W1")
            exact, values = exact_rows(x, y, 1, args.lp_max_n, base, reference=None)
            reference = values.get("fast exact") or values.get("exact primal LP")
            if reference is None:  # divkit's exact solver not merged yet: POT's exact value
                reference = next((r["estimate"] for r in exact if r["method"] == "POT emd2 (anchor)"), None)
                base = dict(base, ref_source="POT emd2 (exact)")
            else:
                base = dict(base, ref_source="divkit.emd")
            for row in exact:
                row["reference"] = reference
                row["ref_source"] = base.get("ref_source", "divkit.emd")
            rows += exact + critic_rows(x, y, base, reference, device, steps)
    return with_errors(rows), steps


def plot(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    clouds = [r for r in rows if r["problem"] == "point clouds" and r.get("estimate") is not None]
    methods = sorted({r["method"] for r in clouds})
    dims = sorted({r["d"] for r in clouds})
    if not clouds:
        return None
    fig, axes = plt.subplots(2, len(dims) + 1, figsize=(4.2 * (len(dims) + 1), 7.5), squeeze=False)
    for k, d in enumerate(dims):
        for method in methods:
            pts = sorted((r["n"], r) for r in clouds if r["d"] == d and r["method"] == method)
            if pts and pts[0][1].get("rel_error") is not None:
                axes[0, k].plot([n for n, _ in pts], [abs(r["rel_error"]) + 1e-16 for _, r in pts], "o-", label=method)
            if pts and pts[0][1].get("time_s") is not None:
                axes[1, k].plot([n for n, _ in pts], [r["time_s"] for _, r in pts], "o-", label=method)
        axes[0, k].set(
            title=f"point clouds, d={d}", xscale="log", yscale="log", xlabel="n", ylabel="|relative error| vs exact W1"
        )
        axes[1, k].set(xscale="log", yscale="log", xlabel="n", ylabel="time (s)")
    n_max = max(r["n"] for r in clouds)
    for method in methods:
        pts = sorted((r["d"], r) for r in clouds if r["n"] == n_max and r["method"] == method)
        if pts and pts[0][1].get("rel_error") is not None:
            axes[0, -1].plot([d for d, _ in pts], [abs(r["rel_error"]) + 1e-16 for _, r in pts], "o-", label=method)
        if pts:
            axes[1, -1].plot([d for d, _ in pts], [r.get("time_s") or np.nan for _, r in pts], "o-", label=method)
    axes[0, -1].set(title=f"point clouds, n={n_max}", xscale="log", yscale="log", xlabel="d")
    axes[1, -1].set(xscale="log", yscale="log", xlabel="d", ylabel="time (s)")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    handles, labels = axes[0, 0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=8)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a few minutes on a CPU")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--steps", type=int, default=None, help="critic / f-GAN training steps")
    parser.add_argument("--lp-max-n", type=int, default=None,
                        help="largest n for the primal and dual LP (default 256 with --quick, else 1024)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--no-plot", action="store_true")
    args = parser.parse_args(argv)
    if args.lp_max_n is None:
        args.lp_max_n = 256 if args.quick else 1024
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    rows, steps = run(args)
    total = time.perf_counter() - t0
    print_table(rows, COLUMNS, title=f"LP versus dual estimates (device={args.device}, {steps} training steps)")
    print(f"total time {total:.1f} s")
    payload = {"rows": rows, "quick": args.quick, "device": args.device, "steps": steps, "total_s": total}
    if torch.cuda.is_available() and args.device.startswith("cuda"):
        payload["gpu"] = torch.cuda.get_device_name()
    write_json("lp_vs_dual", payload)
    if not args.no_plot:
        path = plot(rows, RESULTS_DIR / "lp_vs_dual.png")
        if path:
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
