"""The gallery example runs (a few steps) and its monitored distances are finite."""

import runpy
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "plot_wgan_gp_8gaussians.py"


def test_wgan_gp_example_runs(monkeypatch):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.setenv("DIVKIT_EXAMPLE_STEPS", "60")
    import torch

    threads = torch.get_num_threads()
    try:
        ns = runpy.run_path(str(EXAMPLE), run_name="__main__")
    finally:
        torch.set_num_threads(threads)
        import matplotlib.pyplot as plt

        plt.close("all")
    assert len(ns["w1_exact"]) == len(ns["mmd_values"]) >= 2
    assert all(v == v and abs(v) < 1e3 for v in ns["w1_exact"] + ns["mmd_values"])
    assert ns["w1_exact"][0] > 0.5  # the untrained generator is far from the data
