"""divkit on a real dask.distributed LocalCluster (2 worker processes, small memory): pairwise
matrices bit for bit equal to the local backend, resume from a checkpoint, block sizing, and
MMD^2 / energy distance / the permutation test on chunked dask arrays against the in-memory
functions. No mocks."""

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")

import divkit
from divkit.pairwise import PairwiseError

WORKER_MEMORY = 512 * 2**20


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       memory_limit=WORKER_MEMORY, dashboard_address=":0")
    c = distributed.Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


def _clouds(seed, sizes, d=2):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(n, d)) for n in sizes]


# ---------------------------------------------------------------------------------------------
# pairwise matrices: the cluster gives the same bits as this process
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("metric,options", [
    ("wasserstein", {}),
    ("wasserstein", {"p": 2}),
    ("mmd2", {"kernel": "gaussian", "bandwidth": 0.8}),
    ("energy_distance", {}),
    ("sliced_wasserstein", {"n_projections": 8}),
])
def test_pairwise_cluster_equals_local_bit_for_bit(client, metric, options):
    clouds = _clouds(1, [4, 7, 7, 3, 9, 7, 5])
    clouds.append(clouds[2].copy())
    local = divkit.pairwise(clouds, metric=metric, block_size=3, **options)
    remote = divkit.pairwise(clouds, metric=metric, client=client, block_size=3, **options)
    assert remote.backend == "dask" and local.backend == "local"
    np.testing.assert_array_equal(remote.matrix, local.matrix)
    np.testing.assert_array_equal(remote.status, local.status)
    if local.residual is not None:
        np.testing.assert_array_equal(remote.residual, local.residual)
    # the default blocking on the cluster: still the same bits
    np.testing.assert_array_equal(
        divkit.pairwise(clouds, metric=metric, client=client, **options).matrix, local.matrix)


def test_pairwise_histograms_and_rectangular_on_cluster(client):
    rng = np.random.default_rng(2)
    H = rng.random((9, 6))
    C = np.abs(np.subtract.outer(np.arange(6.0), np.arange(6.0)))
    for metric, kw in (("wasserstein", {"cost": C}), ("kl", {"normalize": True}), ("js", {})):
        G = H if metric != "js" else H / H.sum(axis=1, keepdims=True)
        local = divkit.pairwise(G, metric=metric, block_size=5, **kw)
        remote = divkit.pairwise(G, metric=metric, client=client, block_size=5, **kw)
        np.testing.assert_array_equal(remote.matrix, local.matrix)
    X, Y = _clouds(3, [5, 6, 2]), _clouds(4, [4, 8])
    np.testing.assert_array_equal(divkit.pairwise(X, Y, client=client).matrix,
                                  divkit.pairwise(X, Y).matrix)


def test_backend_dask_uses_the_current_client(client):
    clouds = _clouds(5, [3, 5, 4])
    res = divkit.pairwise(clouds, backend="dask")  # `client` is the default client here
    assert res.backend == "dask"
    np.testing.assert_array_equal(res.matrix, divkit.pairwise(clouds).matrix)


def test_failing_pair_reported_from_the_cluster(client):
    rng = np.random.default_rng(7)
    clouds = [rng.normal(size=(2, 2)) for _ in range(4)] + [rng.normal(size=(30, 2)),
                                                          rng.normal(size=(30, 2))]
    with pytest.raises(PairwiseError, match=r"\(4, 5\): OptimalityError"):
        divkit.pairwise(clouds, client=client, max_iter=60)
    res = divkit.pairwise(clouds, client=client, max_iter=60, errors="report", block_size=4)
    assert [(f.i, f.j) for f in res.failures] == [(4, 5)]
    local = divkit.pairwise(clouds, max_iter=60, errors="report", block_size=4)
    np.testing.assert_array_equal(res.matrix, local.matrix)  # NaN at (4, 5) on both
    assert res.failures == local.failures


def test_input_error_of_a_pair_propagates_from_a_worker(client):
    rng = np.random.default_rng(8)
    clouds = [rng.normal(size=(3, 2)), rng.normal(size=(1, 2)), rng.normal(size=(4, 2))]
    with pytest.raises(ValueError, match=r"pair \(0, 1\) of metric 'mmd2'"):
        divkit.pairwise(clouds, metric="mmd2", client=client)


def test_resume_on_the_cluster_recomputes_only_missing_blocks(client, tmp_path):
    clouds = _clouds(6, [6, 8, 5, 9, 7, 6, 8, 4])
    full = divkit.pairwise(clouds, block_size=3, checkpoint=tmp_path)  # local run, all blocks
    n_blocks = full.estimate.n_blocks
    removed = [1, 4, n_blocks - 1]
    for b in removed:  # as if the run had died before these blocks were written
        (tmp_path / f"block_{b:06d}.npz").unlink()
    resumed = divkit.pairwise(clouds, client=client, block_size=3, checkpoint=tmp_path)
    assert resumed.blocks_computed == len(removed)
    assert resumed.blocks_loaded == n_blocks - len(removed)
    np.testing.assert_array_equal(resumed.matrix, full.matrix)
    np.testing.assert_array_equal(resumed.residual, full.residual)


def test_blocks_are_sized_to_worker_memory(client):
    from divkit.pairwise.api import (
        BYTES_PER_ENTRY,
        MAX_BLOCK_PAIRS,
        WORKER_MEMORY_FRACTION,
    )

    big = _clouds(9, [3000, 3000, 3000])
    est = divkit.pairwise(big, client=client, estimate_only=True)
    fit = int(WORKER_MEMORY_FRACTION * WORKER_MEMORY // (BYTES_PER_ENTRY * 3000 * 3000))
    assert est.block_size == max(1, fit) == 1
    assert est.block_bytes <= WORKER_MEMORY
    small = divkit.pairwise(_clouds(9, [10] * 80), client=client, estimate_only=True)
    assert small.block_size == MAX_BLOCK_PAIRS  # small problems: not limited by memory


def test_not_a_client_is_a_type_error():
    with pytest.raises(TypeError, match="client must be a dask.distributed.Client, got "
                                        "distributed.deploy.local.LocalCluster"):
        cluster = distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=":0")
        try:
            divkit.pairwise(_clouds(0, [2, 3]), client=cluster)
        finally:
            cluster.close()


# ---------------------------------------------------------------------------------------------
# MMD on dask arrays
# ---------------------------------------------------------------------------------------------


def _samples(seed, n=600, m=450, d=3, shift=0.25):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=(m, d)) + shift


@pytest.mark.parametrize("kwargs", [
    {},
    {"estimator": "biased"},
    {"bandwidth": "median"},
    {"bandwidth": "median", "median_max_points": 300, "rng": 4},
    {"kernel": "laplacian", "bandwidth": [0.5, 2.0], "kernel_weights": [1.0, 3.0]},
    {"kernel": "imq", "bandwidth": 1.5, "estimator": "biased"},
    {"kernel": "polynomial", "degree": 2},
    {"kernel": "energy", "estimator": "biased"},
    {"estimator": "linear"},
])
def test_mmd2_on_dask_arrays_equals_in_memory(client, kwargs):
    x, y = _samples(10)
    X = da.from_array(x, chunks=(170, 3))
    Y = da.from_array(y, chunks=(130, 3))
    want = divkit.mmd2(x, y, **kwargs)
    got = divkit.mmd2(X, Y, **kwargs)
    assert isinstance(got, float)
    assert abs(got - want) <= 1e-12 * max(abs(want), 1e-300), (got, want)


def test_mmd2_dask_weighted_extreme_scale_and_mixed_input(client):
    x, y = _samples(11, n=300, m=260)
    rng = np.random.default_rng(0)
    a = rng.random(300)
    a[:20] = 0.0
    a /= a.sum()
    X = da.from_array(x, chunks=100)
    want = divkit.mmd2(x, y, estimator="biased", a=a)
    got = divkit.mmd2(X, y, estimator="biased", a=a)  # y stays a numpy array
    assert abs(got - want) <= 1e-12 * want
    for scale in (1e-200, 1e200):  # rescaled by the same power of two as in memory
        want = divkit.energy_distance(scale * x, scale * y)
        got = divkit.energy_distance(da.from_array(scale * x, chunks=90), scale * y)
        assert abs(got - want) <= 1e-12 * want
    want = divkit.energy_distance(x, y, a=a)
    got = divkit.energy_distance(X, da.from_array(y, chunks=77), a=a)
    assert abs(got - want) <= 1e-12 * want


def test_mmd2_dask_without_a_cluster_uses_the_local_scheduler():
    x, y = _samples(12, n=200, m=150)
    with _no_client():
        got = divkit.mmd2(da.from_array(x, chunks=64), da.from_array(y, chunks=64))
    assert abs(got - divkit.mmd2(x, y)) <= 1e-12 * abs(divkit.mmd2(x, y))


class _no_client:
    """Run dask.compute on the threaded scheduler even while a default client exists."""

    def __enter__(self):
        import dask

        self._cfg = dask.config.set(scheduler="threads")
        self._cfg.__enter__()

    def __exit__(self, *exc):
        self._cfg.__exit__(*exc)


@pytest.mark.parametrize("estimator,shift", [("unbiased", 0.0), ("biased", 0.3),
                                             ("unbiased", 0.5)])
def test_mmd_test_on_dask_arrays_equals_in_memory(client, estimator, shift):
    x, y = _samples(13, n=260, m=190, shift=shift)
    X = da.from_array(x, chunks=100)
    Y = da.from_array(y, chunks=70)
    want = divkit.mmd_test(x, y, bandwidth="median", estimator=estimator, n_permutations=99,
                           rng=5)
    got = divkit.mmd_test(X, Y, bandwidth="median", estimator=estimator, n_permutations=99,
                          rng=5)
    # under H0 the statistic is a near-cancelling difference of kernel means of order 1:
    # agreement is absolute (the means are bounded by 1 for the Gaussian kernel)
    assert abs(got.statistic - want.statistic) <= 1e-12
    np.testing.assert_allclose(got.null_statistics, want.null_statistics, rtol=0, atol=1e-12)
    assert got.p_value == want.p_value
    assert got.bandwidth == want.bandwidth
    assert got.matrix_free


def test_mmd_test_linear_on_dask_arrays(client):
    x, y = _samples(14, n=400, m=350, shift=0.4)
    want = divkit.mmd_test(x, y, estimator="linear")
    got = divkit.mmd_test(da.from_array(x, chunks=128), da.from_array(y, chunks=100),
                          estimator="linear")
    assert got.statistic == want.statistic and got.p_value == want.p_value


def test_dask_mmd_bad_input(client):
    x, y = _samples(15, n=50, m=40)
    xn = x.copy()
    xn[7, 1] = np.nan
    with pytest.raises(ValueError, match="x contains 1 NaN"):
        divkit.mmd2(da.from_array(xn, chunks=16), y)
    yi = y.copy()
    yi[3, 0] = np.inf
    with pytest.raises(ValueError, match="y contains 1 infinite"):
        divkit.energy_distance(da.from_array(x, chunks=16), da.from_array(yi, chunks=16))
    with pytest.raises(ValueError, match="same dimension"):
        divkit.mmd2(da.from_array(x, chunks=16), y[:, :2])
    with pytest.raises(ValueError, match="unknown kernel"):
        divkit.mmd2(da.from_array(x, chunks=16), y, kernel="nope")
    with pytest.raises(ValueError, match="estimator must be one of"):
        divkit.mmd_test(da.from_array(x, chunks=16), y, estimator="fancy")
    with pytest.raises(ValueError, match="a must sum to 1"):
        divkit.mmd2(da.from_array(x, chunks=16), y, estimator="biased", a=np.ones(50))
