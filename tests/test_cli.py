"""The command line: demo (WGAN Example 1), compare on files, --version, help, strict JSON."""

import json
import math
import pickle
import subprocess
import sys

import numpy as np
import pytest

import divkit
from divkit._cli import DEMO_THETAS, json_safe, load_array, main, parallel_segments, wgan_example_rows


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


def _strict_json(text):
    def refuse(constant):
        raise AssertionError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


def test_table_and_strict_json_output(capsys):
    assert main(["demo", "--points", "8"]) == 0
    out = capsys.readouterr().out
    assert "WGAN Example 1" in out and "inf" in out and "0.693147" in out
    assert main(["demo", "--json", "--points", "8"]) == 0
    data = _strict_json(capsys.readouterr().out)
    assert data["points"] == 8
    first, middle = data["rows"][0], data["rows"][3]
    assert first["theta"] == -1.0 and first["W1"] == pytest.approx(1.0)
    assert first["KL"] is None and first["nonfinite"] == {"KL": "inf"}
    assert middle["theta"] == 0.0 and middle["KL"] == 0.0 and "nonfinite" not in middle


def test_json_safe_flags_every_nonfinite_value():
    out = json_safe({"a": math.inf, "b": -math.inf, "c": math.nan, "d": 1.5, "e": [1.0, math.inf], "f": {"g": np.nan}})
    assert out == {
        "a": None,
        "b": None,
        "c": None,
        "d": 1.5,
        "e": [1.0, None],
        "f": {"g": None, "nonfinite": {"g": "nan"}},
        "nonfinite": {"a": "inf", "b": "-inf", "c": "nan", "e[1]": "inf"},
    }
    json.dumps(out, allow_nan=False)


def test_bad_points_argument(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--points", "0"])
    assert "--points must be >= 1" in capsys.readouterr().err


def test_version_and_help_are_readable(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"divkit {divkit.__version__}"
    for argv in (["--help"], ["demo", "--help"], ["compare", "--help"]):
        with pytest.raises(SystemExit):
            main(argv)
        text = capsys.readouterr().out
        assert "``" not in text and ":func:" not in text and ":class:" not in text
    assert "wasserstein" in text and "allow_pickle=False" in text and "null" in text


def test_python_dash_m_entry_point():
    out = subprocess.run(
        [sys.executable, "-m", "divkit", "demo", "--json", "--points", "4"], capture_output=True, text=True, check=True
    )
    assert _strict_json(out.stdout)["rows"][-1]["W1"] == pytest.approx(1.0)


# --------------------------------------------------------------------------- compare


@pytest.fixture
def samples(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(30, 2)), rng.normal(size=(40, 2)) + 0.5
    np.save(tmp_path / "x.npy", x)
    np.savetxt(tmp_path / "y.csv", y, delimiter=",", header="u,v", comments="")
    np.savetxt(tmp_path / "y.txt", y)
    return tmp_path, x, y


def _compare(capsys, *argv):
    code = main(["compare", *map(str, argv)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_wasserstein_from_npy_csv_and_txt_prints_the_number(samples, capsys):
    tmp, x, y = samples
    expected = divkit.wasserstein(x, y, p=2)
    for other in ("y.csv", "y.txt"):
        code, out, _ = _compare(capsys, tmp / "x.npy", tmp / other, "--metric", "wasserstein", "--p", "2")
        assert code == 0
        assert float(out) == pytest.approx(expected, rel=1e-12)


def test_wasserstein_json_holds_value_and_certificate(samples, capsys):
    tmp, x, y = samples
    code, out, _ = _compare(capsys, tmp / "x.npy", tmp / "y.csv", "--metric", "wasserstein", "--json")
    assert code == 0
    data = _strict_json(out)
    assert data["value"] == pytest.approx(divkit.wasserstein(x, y, p=1), rel=1e-12)
    cert = data["certificate"]
    assert cert["is_optimal"] is True and abs(cert["duality_gap"]) < 1e-9
    assert cert["primal_value"] == pytest.approx(data["value"], rel=1e-9)  # W_1 = W_1^1
    assert data["x"]["shape"] == [30, 2] and data["y"]["shape"] == [40, 2]


def test_mmd_test_json_holds_the_test_result(samples, capsys):
    tmp, x, y = samples
    argv = (tmp / "x.npy", tmp / "y.txt", "--metric", "mmd_test", "--permutations", "99", "--seed", "3", "--json")
    code, out, _ = _compare(capsys, *argv)
    assert code == 0
    data = _strict_json(out)
    ref = divkit.mmd_test(x, y, bandwidth="median", n_permutations=99, rng=3)
    assert data["value"] == pytest.approx(ref.statistic, rel=1e-12)
    assert data["test"]["p_value"] == pytest.approx(ref.p_value)
    assert 0 < data["test"]["p_value"] <= 1 and data["test"]["n_permutations"] == 99


def test_mmd2_energy_and_sliced_match_the_library(samples, capsys):
    tmp, x, y = samples
    cases = [
        (["--metric", "mmd2", "--kernel", "laplacian", "--bandwidth", "0.7", "--estimator", "biased"],
         divkit.mmd2(x, y, "laplacian", 0.7, estimator="biased")),
        (["--metric", "energy_distance"], divkit.energy_distance(x, y)),
        (["--metric", "sliced_wasserstein", "--seed", "5", "--projections", "16"],
         divkit.sliced_wasserstein(x, y, n_projections=16, rng=5)),
    ]  # fmt: skip
    for options, expected in cases:
        code, out, _ = _compare(capsys, tmp / "x.npy", tmp / "y.csv", *options)
        assert code == 0 and float(out) == pytest.approx(expected, rel=1e-12)


def test_histograms_and_infinite_kl_in_json(tmp_path, capsys):
    np.savetxt(tmp_path / "p.txt", [0.5, 0.5, 0.0])
    (tmp_path / "q.csv").write_text("# a histogram\n0.25,0.75,0\n")
    np.save(tmp_path / "r.npy", np.array([0.0, 0.0, 1.0]))
    code, out, _ = _compare(capsys, tmp_path / "p.txt", tmp_path / "q.csv", "--metric", "kl", "--base", "2")
    assert code == 0 and float(out) == pytest.approx(divkit.kl([0.5, 0.5, 0], [0.25, 0.75, 0], base=2), rel=1e-14)
    code, out, _ = _compare(capsys, tmp_path / "p.txt", tmp_path / "r.npy", "--metric", "kl", "--json")
    data = _strict_json(out)
    assert code == 0 and data["value"] is None and data["nonfinite"] == {"value": "inf"}
    code, out, _ = _compare(capsys, tmp_path / "p.txt", tmp_path / "r.npy", "--metric", "kl")
    assert out.strip() == "inf"


def test_pickled_object_array_is_refused_and_never_unpickled(tmp_path, capsys):
    marker = tmp_path / "unpickled"

    class Bomb:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    np.save(tmp_path / "evil.npy", np.array([Bomb(), 1], dtype=object), allow_pickle=True)
    np.save(tmp_path / "ok.npy", np.zeros((3, 2)))
    code, out, err = _compare(capsys, tmp_path / "evil.npy", tmp_path / "ok.npy", "--metric", "mmd2")
    assert code == 2 and out == ""
    assert "X:" in err and "object array" in err and "never unpickles" in err
    assert not marker.exists()
    # a raw pickle renamed to .npy is not a .npy file either
    (tmp_path / "raw.npy").write_bytes(pickle.dumps([1.0, 2.0]))
    code, _, err = _compare(capsys, tmp_path / "ok.npy", tmp_path / "raw.npy", "--metric", "mmd2")
    assert code == 2 and "Y:" in err and "not a .npy" in err and "never unpickles" in err


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.npy", None, "no such file"),
        ("a.json", "[1, 2]", "expected .npy, .csv or .txt"),
        ("empty.csv", "", "holds no values"),
        ("comments.txt", "# nothing\n\n", "holds no values"),
        ("ragged.csv", "1,2\n3\n", "rows of different lengths"),
        ("words.txt", "1 2\n3 x\n", "not a number"),
        ("strings.npy", np.array(["a", "b"]), "expected real numbers"),
        ("complex.npy", np.array([1 + 2j]), "expected real numbers"),
        ("scalar.npy", np.array(3.0), "holds no values"),
        ("cube.npy", np.zeros((2, 2, 2)), "expected 1-D or 2-D"),
        ("zero.npy", np.zeros((0, 2)), "holds no values"),
        ("garbage.npy", b"not an npy file", "not a .npy array file"),
        ("truncated.npy", b"\x93NUMPY\x01\x00", "not a valid .npy"),
    ],
)
def test_bad_files_give_clear_errors(tmp_path, capsys, name, content, message):
    path = tmp_path / name
    if isinstance(content, np.ndarray):
        np.save(path, content)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(ValueError, match=message):
        load_array(str(path), "X")
    np.save(tmp_path / "good.npy", np.zeros((3, 2)))
    code, out, err = _compare(capsys, tmp_path / "good.npy", path, "--metric", "mmd2")
    assert code == 2 and out == "" and "Y:" in err and message in err


def test_options_that_do_not_apply_are_refused(samples, capsys):
    tmp, _, _ = samples
    with pytest.raises(SystemExit) as exc:
        main(["compare", str(tmp / "x.npy"), str(tmp / "y.csv"), "--metric", "wasserstein", "--kernel", "imq"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--kernel does not apply to --metric wasserstein" in err and "divkit compare" in err
    with pytest.raises(SystemExit):
        main(["compare", str(tmp / "x.npy"), str(tmp / "y.csv"), "--metric", "nope"])
    with pytest.raises(SystemExit):
        main(["compare", str(tmp / "x.npy"), str(tmp / "y.csv"), "--metric", "mmd2", "--bandwidth", "-1"])
    assert "positive number or 'median'" in capsys.readouterr().err


def test_library_errors_are_reported_not_raised(samples, tmp_path, capsys):
    tmp, _, _ = samples
    np.savetxt(tmp_path / "p.txt", [1.0, 1.0])
    np.savetxt(tmp_path / "q.txt", [0.5, 0.5])
    code, out, err = _compare(capsys, tmp_path / "p.txt", tmp_path / "q.txt", "--metric", "tv")
    assert code == 1 and out == "" and err.startswith("divkit compare: error:")
    code, out, _ = _compare(capsys, tmp_path / "p.txt", tmp_path / "q.txt", "--metric", "tv", "--normalize")
    assert code == 0 and float(out) == 0.0
    code, _, err = _compare(capsys, tmp / "x.npy", tmp / "y.csv", "--metric", "kl")
    assert code == 1 and "expected 1-D" in err
