"""divkit.pairwise on the local backend: entries against one-by-one calls and POT / scipy,
failing pairs, blocking invariance, a process pool, checkpoints after a real kill, bad input."""

import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import ot
import pytest
import scipy.spatial.distance as ssd
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

import divkit
from divkit.pairwise import PairwiseError, PairwiseResult, WorkEstimate


def _clouds(rng, sizes, d=2):
    return [rng.normal(size=(n, d)) for n in sizes]


def _pot_w(x, y, a=None, b=None, p=1):
    a = np.full(len(x), 1 / len(x)) if a is None else a / a.sum()
    b = np.full(len(y), 1 / len(y)) if b is None else b / b.sum()
    C = ssd.cdist(x, y) ** p
    return ot.emd2(a, b, C, numItermax=10**7) ** (1 / p)


# ---------------------------------------------------------------------------------------------
# entries equal one-by-one divkit calls and the anchors
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [1, 2])
def test_exact_w_matches_one_by_one_divkit_and_pot(rng, p):
    clouds = _clouds(rng, [5, 9, 1, 7, 12])
    clouds.append(clouds[1].copy())  # a duplicated cloud: distance exactly 0
    weights = [rng.random(len(c)) for c in clouds]
    weights[3][[0, 4]] = 0.0  # zero-weight points
    weights[5] = weights[1].copy()
    res = divkit.pairwise(clouds, metric="wasserstein", a=weights, p=p)
    assert isinstance(res, PairwiseResult)
    D = res.matrix
    N = len(clouds)
    for i in range(N):
        for j in range(N):
            if i == j:
                assert D[i, j] == 0.0
                continue
            one = divkit.wasserstein(clouds[i], clouds[j], weights[i] / weights[i].sum(),
                                     weights[j] / weights[j].sum(), p=p)
            np.testing.assert_allclose(D[i, j], one, rtol=1e-10, atol=1e-13)
            np.testing.assert_allclose(D[i, j], _pot_w(clouds[i], clouds[j], weights[i],
                                                       weights[j], p), rtol=1e-9, atol=1e-12)
    assert D[1, 5] == 0.0 and D[5, 1] == 0.0
    np.testing.assert_array_equal(D, D.T)
    assert res.symmetric and res.status.max() == 0 and res.failures == ()
    assert res.worst_residual <= 1e-9
    assert res.residual.shape == (N, N) and np.all(res.residual <= res.worst_residual)


def test_exact_w_rectangular_x_y(rng):
    X = _clouds(rng, [4, 6, 3], d=3)
    Y = _clouds(rng, [5, 2], d=3)
    res = divkit.pairwise(X, Y)
    assert res.matrix.shape == (3, 2) and not res.symmetric
    for i in range(3):
        for j in range(2):
            np.testing.assert_allclose(res.matrix[i, j], _pot_w(X[i], Y[j]), rtol=1e-9)


def test_exact_w_on_histograms_with_cost_and_support(rng):
    support = rng.normal(size=(6, 2))
    H = rng.random((5, 6))
    H[2, :3] = 0.0  # empty bins
    H[4] = H[0]  # duplicate
    C = ssd.cdist(support, support)
    res_cost = divkit.pairwise(H, metric="wasserstein", cost=C)
    res_support = divkit.pairwise(H, metric="wasserstein", support=support)
    np.testing.assert_allclose(res_cost.matrix, res_support.matrix, rtol=1e-12, atol=1e-15)
    P = H / H.sum(axis=1, keepdims=True)
    for i in range(5):
        for j in range(5):
            want = 0.0 if i == j else ot.emd2(P[i], P[j], C)
            np.testing.assert_allclose(res_cost.matrix[i, j], want, rtol=1e-9, atol=1e-12)
            if i != j:
                np.testing.assert_allclose(res_cost.matrix[i, j], divkit.emd(P[i], P[j], C).cost,
                                           rtol=1e-12, atol=1e-15)
    assert res_cost.matrix[0, 4] == 0.0
    res2 = divkit.pairwise(H, metric="wasserstein", cost=C, p=2)
    np.testing.assert_allclose(res2.matrix[0, 1], np.sqrt(ot.emd2(P[0], P[1], C**2)), rtol=1e-9)


def test_sliced_mmd_energy_match_one_by_one(rng):
    clouds = _clouds(rng, [6, 8, 5, 7])
    clouds.append(clouds[0].copy())
    sw = divkit.pairwise(clouds, metric="sliced_wasserstein", n_projections=16)
    mm = divkit.pairwise(clouds, metric="mmd2", kernel="laplacian", bandwidth=0.7,
                         estimator="biased")
    en = divkit.pairwise(clouds, metric="energy_distance")
    for i in range(5):
        for j in range(i + 1, 5):
            # each unordered pair is computed once, as (i, j) with i < j, and mirrored
            # pairwise's sliced W uses the library's default order p = 1 and rng = 0
            assert sw.matrix[i, j] == divkit.sliced_wasserstein(clouds[i], clouds[j],
                                                                n_projections=16, rng=0)
            assert mm.matrix[i, j] == divkit.mmd2(clouds[i], clouds[j], kernel="laplacian",
                                                  bandwidth=0.7, estimator="biased")
            assert en.matrix[i, j] == divkit.energy_distance(clouds[i], clouds[j])
            np.testing.assert_allclose(en.matrix[j, i], divkit.energy_distance(clouds[j],
                                                                               clouds[i]),
                                       rtol=1e-13)
            assert en.matrix[j, i] == en.matrix[i, j]
    assert en.matrix[0, 4] == 0.0 and mm.matrix[0, 4] == 0.0
    assert sw.residual is None and sw.worst_residual is None
    # 1-D energy distance: scipy returns its square root
    line = [rng.normal(size=(n, 1)) for n in (5, 9, 4)]
    en1 = divkit.pairwise(line, metric="energy_distance").matrix
    np.testing.assert_allclose(
        en1[0, 2], scipy.stats.energy_distance(line[0][:, 0], line[2][:, 0]) ** 2, rtol=1e-12)


def test_histogram_divergences_match_scipy_and_one_by_one(rng):
    H = rng.random((6, 5)) + 0.05
    H /= H.sum(axis=1, keepdims=True)
    kl = divkit.pairwise(H, metric="kl")
    js = divkit.pairwise(H, metric="js")
    tv = divkit.pairwise(H, metric="tv")
    hd = divkit.pairwise(H, metric="f_divergence:squared_hellinger")
    assert not kl.symmetric and js.symmetric
    for i in range(6):
        for j in range(6):
            if i == j:
                assert kl.matrix[i, j] == 0.0
                continue
            np.testing.assert_allclose(kl.matrix[i, j], scipy.stats.entropy(H[i], H[j]),
                                       rtol=1e-12)
            np.testing.assert_allclose(js.matrix[i, j], ssd.jensenshannon(H[i], H[j]) ** 2,
                                       rtol=1e-10)
            np.testing.assert_allclose(tv.matrix[i, j], 0.5 * np.abs(H[i] - H[j]).sum(),
                                       rtol=1e-13)
            np.testing.assert_allclose(hd.matrix[i, j],
                                       ((np.sqrt(H[i]) - np.sqrt(H[j])) ** 2).sum(), rtol=1e-12)
            assert kl.matrix[i, j] == divkit.kl(H[i], H[j])
    assert not np.allclose(kl.matrix, kl.matrix.T)  # both orders computed


# ---------------------------------------------------------------------------------------------
# a deliberately failing pair
# ---------------------------------------------------------------------------------------------


def _one_failing_pair_set():
    rng = np.random.default_rng(7)
    # the 30 x 30 problem needs ~150 pivots; the 2 x 2 and 2 x 30 ones fewer than 60
    return [rng.normal(size=(2, 2)) for _ in range(4)] + [rng.normal(size=(30, 2)),
                                                          rng.normal(size=(30, 2))]


def test_failing_pair_is_reported_with_its_indices():
    clouds = _one_failing_pair_set()
    with pytest.raises(PairwiseError, match=r"1 of 15 pairs failed: \(4, 5\): OptimalityError"):
        divkit.pairwise(clouds, max_iter=60)
    res = divkit.pairwise(clouds, max_iter=60, errors="report")
    assert [(f.i, f.j) for f in res.failures] == [(4, 5)]
    assert "pivot cap" in res.failures[0].message
    assert res.status[4, 5] == 1 and res.status[5, 4] == 1 and res.status.sum() == 2
    assert np.isnan(res.matrix[4, 5]) and np.isnan(res.residual[4, 5])
    ok = divkit.pairwise(clouds)  # without the cap every other entry is the same
    mask = res.status == 0
    np.testing.assert_array_equal(res.matrix[mask], ok.matrix[mask])
    try:
        divkit.pairwise(clouds, max_iter=60)
    except PairwiseError as exc:
        assert exc.result.status[4, 5] == 1


# ---------------------------------------------------------------------------------------------
# determinism: blocking and the process pool
# ---------------------------------------------------------------------------------------------


def test_blocking_and_process_pool_give_identical_bits(rng):
    clouds = _clouds(rng, [3, 8, 8, 5, 8, 2, 6])
    base = divkit.pairwise(clouds)
    for bs in (1, 4):
        np.testing.assert_array_equal(divkit.pairwise(clouds, block_size=bs).matrix, base.matrix)
    pooled = divkit.pairwise(clouds, block_size=3, n_jobs=2)
    np.testing.assert_array_equal(pooled.matrix, base.matrix)
    np.testing.assert_array_equal(pooled.residual, base.residual)


# ---------------------------------------------------------------------------------------------
# checkpoints: a process killed mid-way, then resumed
# ---------------------------------------------------------------------------------------------

_CHILD = textwrap.dedent("""
    import sys, numpy as np, divkit
    rng = np.random.default_rng(3)
    clouds = [rng.normal(size=(100, 2)) for _ in range(20)]
    print("ready", flush=True)
    divkit.pairwise(clouds, block_size=2, checkpoint=sys.argv[1])
    print("finished", flush=True)
""")


def test_killed_run_resumes_and_recomputes_only_missing_blocks(tmp_path):
    ckpt = tmp_path / "ckpt"
    # compile (and cache on disk) the kernels the child needs first, so that its blocks do not
    # wait for a cold compile on a loaded machine
    warm = np.random.default_rng(4)
    divkit.pairwise([warm.normal(size=(100, 2)) for _ in range(3)], block_size=2)
    env = dict(os.environ)
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(ckpt)], stdout=subprocess.PIPE,
                            text=True, env=env)
    try:
        assert proc.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            if ckpt.exists() and len(list(ckpt.glob("block_*.npz"))) >= 3:
                break
            time.sleep(0.005)
        proc.kill()  # SIGKILL: no cleanup in the child
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    rng = np.random.default_rng(3)
    clouds = [rng.normal(size=(100, 2)) for _ in range(20)]
    n_blocks = 20 * 19 // 2 // 2
    on_disk = len(list(ckpt.glob("block_*.npz")))
    assert 3 <= on_disk < n_blocks, "the child finished before it was killed"
    resumed = divkit.pairwise(clouds, block_size=2, checkpoint=ckpt)
    assert resumed.blocks_loaded == on_disk
    assert resumed.blocks_computed == n_blocks - on_disk
    fresh = divkit.pairwise(clouds, block_size=2)
    np.testing.assert_array_equal(resumed.matrix, fresh.matrix)
    np.testing.assert_array_equal(resumed.residual, fresh.residual)
    again = divkit.pairwise(clouds, block_size=2, checkpoint=ckpt)
    assert again.blocks_computed == 0 and again.blocks_loaded == n_blocks
    np.testing.assert_array_equal(again.matrix, fresh.matrix)
    with pytest.raises(ValueError, match="belongs to a different pairwise run"):
        divkit.pairwise(clouds[:-1], block_size=2, checkpoint=ckpt)
    with pytest.raises(ValueError, match="belongs to a different pairwise run"):
        divkit.pairwise(clouds, block_size=3, checkpoint=ckpt)


def test_failures_survive_the_checkpoint(tmp_path):
    clouds = _one_failing_pair_set()
    first = divkit.pairwise(clouds, max_iter=60, errors="report", checkpoint=tmp_path)
    second = divkit.pairwise(clouds, max_iter=60, errors="report", checkpoint=tmp_path)
    assert second.blocks_computed == 0
    assert second.failures == first.failures
    np.testing.assert_array_equal(second.status, first.status)


# ---------------------------------------------------------------------------------------------
# work estimate and progress
# ---------------------------------------------------------------------------------------------


def test_estimate_and_progress(rng, capsys):
    clouds = _clouds(rng, [3, 4, 5, 6])
    est = divkit.pairwise(clouds, estimate_only=True, block_size=2)
    assert isinstance(est, WorkEstimate)
    assert est.n_pairs == 6 and est.n_blocks == 3
    assert est.work == sum(a * b for k, a in enumerate([3, 4, 5, 6]) for b in [3, 4, 5, 6][k + 1:])
    divkit.pairwise(clouds, progress=True, block_size=2)
    captured = capsys.readouterr()
    text = captured.err + captured.out
    assert "6 pairs in 3 blocks" in text and "3/3" in text


# ---------------------------------------------------------------------------------------------
# bad input: errors name the offending index or argument
# ---------------------------------------------------------------------------------------------


def test_bad_input_errors(rng):
    clouds = _clouds(rng, [3, 4, 5])
    with pytest.raises(ValueError, match=r"X\[2\] has points of dimension 3 but X\[0\] has "
                                         r"dimension 2"):
        divkit.pairwise(clouds[:2] + [rng.normal(size=(4, 3))])
    with pytest.raises(ValueError, match=r"Y\[1\] has points of dimension 3 but X\[0\]"):
        divkit.pairwise(clouds, [clouds[0], rng.normal(size=(4, 3))])
    bad = [c.copy() for c in clouds]
    bad[1][2, 0] = np.nan
    with pytest.raises(ValueError, match=r"X\[1\] contains 1 NaN"):
        divkit.pairwise(bad)
    bad[1][2, 0] = np.inf
    with pytest.raises(ValueError, match=r"X\[1\] contains 1 infinite"):
        divkit.pairwise(bad, metric="mmd2")
    with pytest.raises(ValueError, match="unknown metric 'wasserstien'"):
        divkit.pairwise(clouds, metric="wasserstien")
    with pytest.raises(TypeError, match="client must be a dask.distributed.Client"):
        divkit.pairwise(clouds, client="tcp://localhost:8786")
    with pytest.raises(TypeError, match="client must be a dask.distributed.Client"):
        divkit.pairwise(clouds, client=object())
    with pytest.raises(ValueError, match="backend must be one of"):
        divkit.pairwise(clouds, backend="spark")
    with pytest.raises(TypeError, match=r"unexpected option\(s\) \['kernal'\]"):
        divkit.pairwise(clouds, metric="mmd2", kernal="gaussian")
    with pytest.raises(ValueError, match="unknown kernel"):
        divkit.pairwise(clouds, metric="mmd2", kernel="nope")
    with pytest.raises(ValueError, match=r"pair \(0, 1\) of metric 'mmd2'.*at least 2 points"):
        divkit.pairwise([rng.normal(size=(1, 2)), rng.normal(size=(3, 2))], metric="mmd2")
    with pytest.raises(ValueError, match=r"a\[1\] has 2 weights but there are 4 points"):
        divkit.pairwise(clouds, a=[None, [0.5, 0.5], None])
    with pytest.raises(ValueError, match="p must be >= 1"):
        divkit.pairwise(clouds, p=0.5)
    with pytest.raises(TypeError, match="list of"):
        divkit.pairwise("not clouds")
    with pytest.raises(ValueError, match="X is empty"):
        divkit.pairwise([])
    H = rng.random((4, 5))
    with pytest.raises(ValueError, match="need exactly one of cost="):
        divkit.pairwise(H)
    with pytest.raises(ValueError, match=r"cost has shape \(4, 4\), expected \(5, 5\)"):
        divkit.pairwise(H, cost=np.ones((4, 4)))
    with pytest.raises(ValueError, match="Y has 4 bins per histogram but X has 5"):
        divkit.pairwise(H, H[:, :4], metric="tv")
    Hn = H.copy()
    Hn[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"X\[2\] \(row 2\) contains NaN"):
        divkit.pairwise(Hn, metric="kl", normalize=True)
    with pytest.raises(ValueError, match=r"X\[1\] has shape \(3,\) but X\[0\] has shape \(5,\)"):
        divkit.pairwise([H[0], H[1, :3]], metric="tv")
    with pytest.raises(ValueError, match="compares point clouds"):
        divkit.pairwise(H, metric="mmd2")
    with pytest.raises(ValueError, match="compares histograms"):
        divkit.pairwise(clouds, metric="kl")
    with pytest.raises(ValueError, match="errors must be one of"):
        divkit.pairwise(clouds, errors="ignore")


def test_backend_dask_without_a_client_is_an_error(rng):
    pytest.importorskip("distributed")
    with pytest.raises(ValueError, match="found no dask.distributed client"):
        divkit.pairwise(_clouds(rng, [3, 4]), backend="dask")


# ---------------------------------------------------------------------------------------------
# property: adversarial sets against POT, metric axioms of W_1
# ---------------------------------------------------------------------------------------------


@st.composite
def _cloud_sets(draw):
    n_clouds = draw(st.integers(2, 5))
    magnitude = draw(st.sampled_from([1e-150, 1e-3, 1.0, 1e3, 1e150]))
    base = np.array(draw(st.lists(st.floats(-4, 4), min_size=2, max_size=2)))
    clouds, weights = [], []
    for _ in range(n_clouds):
        n = draw(st.integers(1, 6))
        pts = np.array(draw(st.lists(st.lists(st.integers(-2, 2), min_size=2, max_size=2),
                                     min_size=n, max_size=n)), dtype=float)  # ties, duplicates
        clouds.append(magnitude * (pts + base))
        w = np.array(draw(st.lists(st.sampled_from([0.0, 0.5, 1.0, 3.0]), min_size=n,
                                   max_size=n)))
        if w.sum() == 0:
            w[0] = 1.0
        weights.append(w)
    if draw(st.booleans()):
        clouds.append(clouds[0].copy())
        weights.append(weights[0].copy())
    return clouds, weights, magnitude


@settings(max_examples=25)
@given(_cloud_sets())
def test_property_exact_w_against_pot_and_metric_axioms(case):
    clouds, weights, magnitude = case
    res = divkit.pairwise(clouds, a=weights)
    D = res.matrix
    N = len(clouds)
    assert res.status.max() == 0 and res.worst_residual <= 1e-9
    np.testing.assert_array_equal(D, D.T)
    assert np.all(D >= 0) and np.all(np.diag(D) == 0)
    for i in range(N):
        for j in range(i + 1, N):
            want = magnitude * _pot_w(clouds[i] / magnitude, clouds[j] / magnitude, weights[i],
                                      weights[j])
            np.testing.assert_allclose(D[i, j], want, rtol=1e-9, atol=1e-12 * magnitude)
    # triangle inequality of W_1 (a metric on probability measures)
    tol = 1e-9 * max(D.max(), magnitude)
    for i in range(N):
        for j in range(N):
            for k in range(N):
                assert D[i, j] <= D[i, k] + D[k, j] + tol
