"""FID / KID accuracy and time against torchmetrics, plus the torch training-loop pieces.

    python benchmarks/generative_metrics.py [--quick]

* FID on full-rank, rank-deficient and n < d features: divkit.frechet_distance (numpy),
  divkit.torch.frechet_distance (CPU) and torchmetrics' Frechet computation (its
  ``_compute_fid`` on the same float64 moments), each against the independent oracle of
  CONVENTIONS §7: ||mu1 - mu2||^2 + ||A||_F^2 + ||B||_F^2 - 2 ||A B^T||_* with A = Xc/sqrt(n-1),
  B = Yc/sqrt(m-1) (an SVD of the n x m matrix; no covariance, no matrix square root).
  pytorch-fid and clean-fid import torchvision at module level, which is not installed here
  (and must not be): they are reported as skipped.
* KID: divkit.kid against torchmetrics' poly_mmd on the same subsets (value and time).
* torch mmd2 (gaussian, d = 64, n = 1024, forward + backward) against the hand-written
  ||x||^2 + ||y||^2 - 2 x.y form; critic_wasserstein(5 steps) against 5 hand-written WGAN-GP steps.

Times are medians of interleaved repetitions (wall and CPU), measured side by side.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from _harness import print_table, write_json  # noqa: E402

import divkit  # noqa: E402
import divkit.torch as dt  # noqa: E402


def oracle_fid(x, y):
    a = (x - x.mean(0)) / np.sqrt(x.shape[0] - 1)
    b = (y - y.mean(0)) / np.sqrt(y.shape[0] - 1)
    nuclear = np.linalg.svd(a @ b.T, compute_uv=False).sum()
    diff = x.mean(0) - y.mean(0)
    return float(diff @ diff + np.sum(a * a) + np.sum(b * b) - 2.0 * nuclear)


def timed(fn, repeats):
    """Interleaving is done by the caller; this returns (wall, cpu, value) medians for one fn."""
    wall, cpu, value = [], [], None
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        value = fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return wall, cpu, value


def interleave(cands, repeats):
    rec = {k: {"wall": [], "cpu": []} for k in cands}
    for _ in range(repeats):
        for k, fn in cands.items():
            w, c, v = timed(fn, 1)
            rec[k]["wall"] += w
            rec[k]["cpu"] += c
            rec[k]["value"] = v
    for r in rec.values():
        r["wall_median"] = statistics.median(r["wall"])
        r["cpu_median"] = statistics.median(r["cpu"])
    return rec


def fid_cases(quick):
    rng = np.random.default_rng(0)
    d = 512
    yield "full rank d=64", rng.normal(size=(2000, 64)), rng.normal(size=(2000, 64)) @ rng.normal(size=(64, 64)) / 8
    yield "rank 32 in d=512", rng.normal(size=(1000, 32)) @ rng.normal(size=(32, d)), \
        rng.normal(size=(1000, 32)) @ rng.normal(size=(32, d)) + 0.1
    yield "n=400 < d=512", rng.normal(size=(400, d)), 1.3 * rng.normal(size=(400, d)) + 0.05
    x = rng.normal(size=(1000, d))
    y = rng.normal(size=(1000, d)) * rng.uniform(0.5, 2.0, d)
    x[:, :5], y[:, :5] = 0.0, 1.5
    yield "5 constant columns d=512", x, y
    d = 2048
    yield "rank 64 in d=2048", rng.normal(size=(2500, 64)) @ rng.normal(size=(64, d)), \
        rng.normal(size=(2500, 64)) @ rng.normal(size=(64, d)) + 0.05
    if not quick:
        yield "full rank d=2048", rng.normal(size=(4000, d)), \
            rng.normal(size=(4000, d)) @ (rng.normal(size=(d, d)) / np.sqrt(d))


def bench_fid(quick):
    from torchmetrics.image.fid import _compute_fid

    rows = []
    for name, x, y in fid_cases(quick):
        exact = oracle_fid(x, y)
        m1, c1 = divkit.feature_moments(x)
        m2, c2 = divkit.feature_moments(y)
        tm = [torch.from_numpy(v) for v in (m1, c1, m2, c2)]
        tx, ty = torch.from_numpy(x), torch.from_numpy(y)
        repeats = 1 if x.shape[1] >= 2048 or quick else 3
        rec = interleave(
            {
                "divkit": lambda: divkit.frechet_distance_from_moments(m1, c1, m2, c2),
                "divkit.torch": lambda: dt.frechet_distance(tx, ty).item(),
                "torchmetrics": lambda: _compute_fid(*tm).item(),
            },
            repeats,
        )
        row = {"case": name, "FID": exact}
        for k in rec:
            row[f"relerr {k}"] = abs(rec[k]["value"] - exact) / exact
        # time of the Frechet computation from moments (divkit.torch includes the moments)
        row["t divkit (s)"] = rec["divkit"]["wall_median"]
        row["t torchmetrics (s)"] = rec["torchmetrics"]["wall_median"]
        row["t ratio divkit/tm"] = statistics.median(
            a / b for a, b in zip(rec["divkit"]["wall"], rec["torchmetrics"]["wall"]))
        row["cpu ratio divkit/tm"] = statistics.median(
            a / b for a, b in zip(rec["divkit"]["cpu"], rec["torchmetrics"]["cpu"]))
        row["t divkit.torch (s)"] = rec["divkit.torch"]["wall_median"]
        rows.append(row)
        print_table([row], list(row))
    return rows


def bench_kid(quick):
    from torchmetrics.image.kid import poly_mmd

    rng = np.random.default_rng(1)
    d, n = 2048, 2000
    x = rng.normal(size=(n, d))
    y = rng.normal(size=(n, d)) * 1.05 + 0.02
    n_subsets = 5 if quick else 20
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    res = divkit.kid(x, y, n_subsets=n_subsets, subset_size=1000, rng=0)

    def torchmetrics_kid():
        vals = torch.stack([poly_mmd(tx[torch.from_numpy(ix)], ty[torch.from_numpy(iy)])
                            for ix, iy in zip(res.indices_x, res.indices_y)])
        return vals

    rec = interleave(
        {
            "divkit": lambda: divkit.kid(x, y, n_subsets=n_subsets, subset_size=1000, rng=0).values,
            "divkit.torch": lambda: dt.kid(tx, ty, n_subsets=n_subsets, subset_size=1000, rng=0).values.numpy(),
            "torchmetrics": lambda: torchmetrics_kid().numpy(),
        },
        1 if quick else 3,
    )
    ref = rec["torchmetrics"]["value"]
    row = {
        "n_subsets": n_subsets,
        "KID": float(ref.mean()),
        "max |divkit - tm| / max|tm|": float(np.max(np.abs(rec["divkit"]["value"] - ref)) / np.max(np.abs(ref))),
        "t divkit (s)": rec["divkit"]["wall_median"],
        "t divkit.torch (s)": rec["divkit.torch"]["wall_median"],
        "t torchmetrics (s)": rec["torchmetrics"]["wall_median"],
        "ratio divkit/tm": rec["divkit"]["wall_median"] / rec["torchmetrics"]["wall_median"],
    }
    print_table([row], list(row), "KID (d=2048, subsets of 1000; same subsets)")
    return row


def bench_torch_mmd(quick):
    g = torch.Generator().manual_seed(0)
    n, d = 1024, 64
    x = torch.randn(n, d, generator=g, dtype=torch.float64, requires_grad=True)
    y = torch.randn(n, d, generator=g, dtype=torch.float64) + 0.1
    sigma = 8.0

    def hand():
        def ksum(a, b):
            sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
            return torch.exp(-sq.clamp_min(0) / (2 * sigma**2))
        kxx, kyy, kxy = ksum(x, x), ksum(y, y), ksum(x, y)
        val = ((kxx.sum() - kxx.diagonal().sum()) / (n * (n - 1)) + (kyy.sum() - kyy.diagonal().sum()) / (n * (n - 1))
               - 2 * kxy.mean())
        (gx,) = torch.autograd.grad(val, x)
        return val.item()

    def ours():
        val = dt.mmd2(x, y, "gaussian", sigma, check_inputs=False)
        (gx,) = torch.autograd.grad(val, x)
        return val.item()

    def ours_diff():
        val = dt.mmd2(x, y, "gaussian", sigma, check_inputs=False, expansion=False)
        (gx,) = torch.autograd.grad(val, x)
        return val.item()

    cands = {"hand-written expansion": hand, "divkit.torch.mmd2": ours}
    if not quick:
        cands["divkit.torch.mmd2 (differences)"] = ours_diff
    for fn in cands.values():
        fn()
    rec = interleave(cands, 5 if quick else 9)
    row = {
        "value rel diff": abs(rec["divkit.torch.mmd2"]["value"] - rec["hand-written expansion"]["value"])
        / abs(rec["hand-written expansion"]["value"]),
        "t hand (ms)": 1e3 * rec["hand-written expansion"]["wall_median"],
        "t divkit (ms)": 1e3 * rec["divkit.torch.mmd2"]["wall_median"],
        "ratio wall": statistics.median(
            a / b for a, b in zip(rec["divkit.torch.mmd2"]["wall"], rec["hand-written expansion"]["wall"])),
        "ratio cpu": statistics.median(
            a / b for a, b in zip(rec["divkit.torch.mmd2"]["cpu"], rec["hand-written expansion"]["cpu"])),
    }
    if "divkit.torch.mmd2 (differences)" in rec:
        row["t differences (ms)"] = 1e3 * rec["divkit.torch.mmd2 (differences)"]["wall_median"]
    print_table([row], list(row), "torch mmd2 gaussian, n = m = 1024, d = 64, forward + backward (float64)")
    return row


def bench_critic(quick):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 64), torch.nn.ReLU(), torch.nn.Linear(64, 64), torch.nn.ReLU(),
                              torch.nn.Linear(64, 1))
    opt = torch.optim.Adam(net.parameters(), lr=1e-4, betas=(0.0, 0.9))
    r, f = torch.randn(640, 2), torch.randn(640, 2) + 1

    def hand():
        for _ in range(5):
            xb, yb = r[torch.randint(640, (128,))], f[torch.randint(640, (128,))]
            a = torch.rand(128, 1)
            xh = (a * xb + (1 - a) * yb).requires_grad_(True)
            (gr,) = torch.autograd.grad(net(xh).sum(), xh, create_graph=True)
            loss = net(yb).mean() - net(xb).mean() + 10 * ((gr.norm(dim=1) - 1) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()

    def ours():
        dt.critic_wasserstein(r, f, critic=net, optimizer=opt, n_steps=5, batch_size=128, evaluate=False)

    def batch(fn):
        return lambda: [fn() for _ in range(20)]

    rec = interleave({"hand": batch(hand), "divkit": batch(ours)}, 5 if quick else 9)
    row = {
        "t hand 5 steps (ms)": 1e3 * rec["hand"]["wall_median"] / 20,
        "t divkit (ms)": 1e3 * rec["divkit"]["wall_median"] / 20,
        "ratio wall": statistics.median(a / b for a, b in zip(rec["divkit"]["wall"], rec["hand"]["wall"])),
        "ratio cpu": statistics.median(a / b for a, b in zip(rec["divkit"]["cpu"], rec["hand"]["cpu"])),
    }
    print_table([row], list(row), "critic_wasserstein(n_steps=5, evaluate=False) vs 5 hand-written WGAN-GP steps")
    return row


def plot(fid_rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    names = [r["case"] for r in fid_rows]
    pos = np.arange(len(names))
    for i, k in enumerate(["divkit", "divkit.torch", "torchmetrics"]):
        vals = [max(r[f"relerr {k}"], 1e-17) for r in fid_rows]
        axes[0].bar(pos + (i - 1) * 0.27, vals, width=0.27, label=k)
    axes[0].set_yscale("log")
    axes[0].set_xticks(pos, names, rotation=30, ha="right", fontsize=7)
    axes[0].set_ylabel("relative error vs nuclear-norm oracle")
    axes[0].legend()
    axes[1].bar(pos - 0.2, [r["t divkit (s)"] for r in fid_rows], width=0.4, label="divkit")
    axes[1].bar(pos + 0.2, [r["t torchmetrics (s)"] for r in fid_rows], width=0.4, label="torchmetrics")
    axes[1].set_yscale("log")
    axes[1].set_xticks(pos, names, rotation=30, ha="right", fontsize=7)
    axes[1].set_ylabel("time from moments (s)")
    axes[1].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    skipped = {}
    for mod in ("pytorch_fid.fid_score", "cleanfid.fid"):
        try:
            __import__(mod)
        except Exception as exc:  # they import torchvision at module level
            skipped[mod] = f"{type(exc).__name__}: {exc}"
            print(f"skipped {mod}: {skipped[mod]}")
    critic = bench_critic(args.quick)
    mmd = bench_torch_mmd(args.quick)
    kid = bench_kid(args.quick)
    fid = bench_fid(args.quick)
    payload = {"quick": args.quick, "fid": fid, "kid": kid, "torch_mmd2": mmd, "critic": critic, "skipped": skipped}
    path = write_json("generative_metrics", payload)
    plot(fid, path.with_suffix(".png"))


if __name__ == "__main__":
    main()
