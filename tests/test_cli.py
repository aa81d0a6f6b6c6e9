"""The demo command: WGAN Example 1 (Arjovsky, Chintala & Bottou 2017)."""

import json
import math
import subprocess
import sys

import pytest

from divkit._cli import DEMO_THETAS, main, parallel_segments, wgan_example_rows


@pytest.mark.parametrize("n_points", [1, 7, 64])
def test_example_rows_saturate_while_w1_stays_exact(n_points):
    rows = wgan_example_rows(n_points=n_points)
    assert [r["theta"] for r in rows] == list(DEMO_THETAS)
    for r in rows:
        if r["theta"] == 0:
            assert r["KL"] == r["JS"] == r["TV"] == r["Hellinger"] == r["W1"] == 0.0
        else:
            assert r["KL"] == math.inf
            assert r["JS"] == pytest.approx(math.log(2), rel=1e-15)
            assert r["TV"] == pytest.approx(1.0, rel=1e-15)
            assert r["Hellinger"] == pytest.approx(math.sqrt(2), rel=1e-15)
            assert r["W1"] == pytest.approx(abs(r["theta"]), rel=1e-12)


def test_parallel_segments_histograms_are_disjoint():
    x0, xt, p0, pt = parallel_segments(0.5, 4)
    assert x0.shape == xt.shape == (4, 2)
    assert (p0 * pt).sum() == 0 and p0.sum() == pytest.approx(1) and pt.sum() == pytest.approx(1)


def test_table_and_json_output(capsys):
    assert main(["demo", "--points", "8"]) == 0
    out = capsys.readouterr().out
    assert "WGAN Example 1" in out and "inf" in out and "0.693147" in out
    assert main(["demo", "--json", "--points", "8"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["points"] == 8
    first = data["rows"][0]
    assert first["theta"] == -1.0 and first["KL"] == "inf" and first["W1"] == pytest.approx(1.0)


def test_bad_points_argument(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--points", "0"])
    assert "--points must be >= 1" in capsys.readouterr().err


def test_python_dash_m_entry_point():
    out = subprocess.run(
        [sys.executable, "-m", "divkit", "demo", "--json", "--points", "4"], capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout)["rows"][-1]["W1"] == pytest.approx(1.0)
