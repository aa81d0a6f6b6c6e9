"""Compile structure behind the first-call time (issue 14 point 3).

* Each divergence code has its own row-loop kernel, built on first use: a call compiles its own
  formula only (checked in a fresh process on an empty cache: the formula helpers of other codes
  are never compiled). Likewise each MMD kernel variant (kernel, base quantity, GEMM or not).
* ``parallel=True`` builds are made only for inputs large enough to use them, and a kernel's
  serial and parallel builds never share a disk-cache entry.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import divkit
from divkit import _discrete, _numba
from divkit._numba import ParallelKernel

ROOT = Path(divkit.__file__).resolve().parents[1]


def _fresh_process(code: str, tmp_path: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "numba-cache")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env,
                         cwd=tmp_path, check=True, timeout=600)
    return out.stdout


def test_a_divergence_compiles_only_its_own_formula(tmp_path):
    out = _fresh_process(
        """
        import divkit
        from divkit import _discrete as d

        assert divkit.tv([0.5, 0.5], [0.25, 0.75]) == 0.25
        helpers = [d._log_ratio, d._bregman, d._mixture_term, d._alpha_term, d._log_ratio_accurate]
        print([h.py_func.__name__ for h in helpers if h.signatures])
        from divkit._numba import built_keys
        print(built_keys(d._build_pair_rows))
        divkit.kl([0.5, 0.5], [0.25, 0.75])
        print([h.py_func.__name__ for h in helpers if h.signatures])
        """,
        tmp_path,
    )
    tv_helpers, tv_kernels, kl_helpers = out.splitlines()
    assert tv_helpers == "[]"  # TV's kernel holds |p - q| / 2 only: no logarithm compiled
    assert tv_kernels == f"[({_discrete.CODE_TV}, False, False)]"  # small input: serial fast pass only
    assert kl_helpers == "['_log_ratio']"  # KL's fast pass needs the log ratio, nothing else


def test_an_mmd_compiles_only_its_own_kernel_variant(tmp_path):
    out = _fresh_process(
        """
        import numpy as np
        import divkit
        from divkit.mmd import _kernels as k

        rng = np.random.default_rng(0)
        x, y = rng.normal(size=(50, 2)), rng.normal(size=(60, 2))
        divkit.mmd2(x, y, "gaussian", 1.0)
        from divkit._numba import built_keys
        builders = (k._build_apply_kernel, k._build_base_row, k._build_kernel_sum, k._build_kernel_matrix,
                    k._build_paired_values)
        print(sorted((b.__name__, key) for b in builders for key in built_keys(b)))
        print([f.py_func.__name__ for f in (k._gemm_block, k._gaussian_row_from_gemm) if f.signatures])
        """,
        tmp_path,
    )
    builds, gemm_helpers = out.splitlines()
    from divkit.mmd import _kernels as k

    # low dimension: squared distances from differences, the Gaussian formula only, one thread
    assert builds == str(sorted([("_build_apply_kernel", (k.GAUSSIAN,)),
                                 ("_build_base_row", (k.BASE_SQDIST, False)),
                                 ("_build_kernel_sum", (k.GAUSSIAN, k.BASE_SQDIST, False, False))]))
    assert gemm_helpers == "[]"  # no BLAS block, no fused GEMM row


def test_mmd_variants_prune_only_what_their_constants_exclude(rng):
    """Each kernel variant's sum, matrix and paired values, with and without the GEMM form,
    symmetric (Y is X) or not, against the textbook formulas: a branch pruned from a variant
    that needed it would show here. The inputs span 2 x 2 blocks, so a
    symmetric problem has a mirrored block."""
    from naive import naive_kernel_matrix

    from divkit.mmd import _kernels as k
    from divkit.mmd.kernels import resolve_kernel

    n, m = k.BLOCK + 21, k.BLOCK + 9
    X, Y = rng.normal(size=(n, 3)), rng.normal(size=(m, 3))
    cases = [("gaussian", [0.8], [1.0]), ("gaussian", [0.8, 2.5], [0.25, 1.5]),
             ("laplacian", [0.8, 2.5], [0.25, 1.5]), ("laplacian_l2", [0.8, 2.5], [0.25, 1.5]),
             ("imq", [0.8, 2.5], [0.25, 1.5]), ("polynomial", None, None), ("linear", None, None),
             ("energy", None, None)]
    nx, ny = np.einsum("ij,ij->i", X, X), np.einsum("ij,ij->i", Y, Y)
    for name, sigmas, weights in cases:
        spec = resolve_kernel(name, sigmas, X, Y, kernel_weights=weights)
        options = {} if sigmas is None else {"sigmas": sigmas, "weights": weights}
        naive = {False: naive_kernel_matrix(X, Y, name, **options), True: naive_kernel_matrix(X, X, name, **options)}
        coefficients = (spec.inv_scales, spec.mixture_weights, spec.gamma, spec.coef0, spec.degree)
        # the forms kernel_sum can choose: squared distances of Gaussian and IMQ kernels by GEMM
        # or from differences, inner products by GEMM, everything else from differences
        gemm_forms = (False, True) if name in ("gaussian", "imq") else (spec.base_kind == k.BASE_DOT,)
        # serial builds: a parallel build differs only in the prange over chunks, and test_mmd's
        # multi-block, thread-count and parallel-path tests run those per kernel
        for use_gemm in gemm_forms:
            for symmetric in (False, True):
                Z, nz = (X, nx) if symmetric else (Y, ny)
                prep = (X, Z, np.ascontiguousarray(Z.T), nx, nz, symmetric)
                total = k.kernel_sum_kernel(spec.code, spec.base_kind, use_gemm, False)(
                    *prep, *coefficients, np.empty(0), np.empty(0), False, 1)
                np.testing.assert_allclose(total, naive[symmetric].sum(), rtol=1e-12, atol=1e-9)
                # the matrix loop calls the same helper builds: its own pruning (GEMM block or
                # not, mirrored blocks) is covered by one kernel of each base quantity
                if name not in ("imq", "laplacian", "linear"):
                    continue
                out = np.empty((n, Z.shape[0]))
                k.kernel_matrix_kernel(spec.code, spec.base_kind, use_gemm, False)(
                    *prep, *coefficients, out, 1)
                np.testing.assert_allclose(out, naive[symmetric], rtol=1e-12, atol=1e-14)
        paired = k.paired_values_kernel(spec.code, spec.base_kind)(X[:m], Y, *coefficients)
        np.testing.assert_allclose(paired, np.diag(naive[False][:m]), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("accurate", [False, True])
def test_specialised_kernels_cover_every_code(accurate, rng):
    """Every code's kernel (fast and accurate pass) agrees with the other pass where both are
    accurate, and gives the table's value on a hand-checked pair (TV)."""
    p = rng.random((3, 50))
    q = rng.random((3, 50))
    p /= p.sum(-1, keepdims=True)
    q /= q.sum(-1, keepdims=True)
    ip = iq = np.arange(3, dtype=np.int64)
    ones = np.ones(3)
    for code in range(_discrete.CODE_ENTROPY + 1):
        param = 0.3 if code in (_discrete.CODE_WEIGHTED_JS, _discrete.CODE_ALPHA) else 0.0
        kernel = _discrete.pair_rows_kernel(code, accurate, False)
        other = _discrete.pair_rows_kernel(code, not accurate, False)
        args = (p, q if code != _discrete.CODE_ENTROPY else p, ip, iq, ones, ones, param, 1.0, 1.0)
        out, sums_p, sums_q, flags, _ = kernel(*args)
        np.testing.assert_allclose(out, other(*args)[0], rtol=1e-13, atol=0)
        assert flags == 0
        np.testing.assert_allclose(sums_p, 1.0, rtol=1e-14)
    tv = _discrete.pair_rows_kernel(_discrete.CODE_TV, accurate, False)(p, q, ip, iq, ones, ones, 0.0, 0.5, 0.5)[0]
    np.testing.assert_allclose(tv, 0.5 * np.abs(p - q).sum(-1), rtol=1e-14)


def test_parallel_build_only_for_large_inputs(monkeypatch, rng):
    from divkit.ot import result

    original = result._dense_dual_pass
    kernel = ParallelKernel(original.py_func, original.work, {"cache": True})
    C = rng.random((30, 40))
    f, g = rng.random(30), rng.random(40)
    monkeypatch.setattr(_numba.numba, "get_num_threads", lambda: 4)
    small = kernel(C, f, g, 1e-300)
    assert kernel._parallel is None and kernel._serial is not None
    monkeypatch.setattr(_numba, "PARALLEL_MIN_WORK", C.size)
    large = kernel(C, f, g, 1e-300)
    assert kernel._parallel is not None and kernel._parallel.signatures
    assert large == small  # the same loop in the same order: identical results
    monkeypatch.setattr(_numba.numba, "get_num_threads", lambda: 1)
    kernel._parallel = None
    kernel(C, f, g, 1e-300)
    assert kernel._parallel is None  # one thread: the serial build


def test_serial_and_parallel_builds_have_separate_cache_entries(tmp_path):
    out = _fresh_process(
        """
        import numpy as np
        from divkit import _discrete as d
        from divkit.ot import result

        C = np.arange(12.0).reshape(3, 4)
        f, g = np.zeros(3), np.zeros(4)
        serial = result._dense_dual_pass.serial(C, f, g, 1e-300)
        parallel = result._dense_dual_pass.parallel(C, f, g, 1e-300)
        print(sum(result._dense_dual_pass.parallel.stats.cache_hits.values()), serial == parallel)
        P = np.array([[0.5, 0.5]]); Q = np.array([[0.25, 0.75]]); i = np.zeros(1, np.int64); s = np.ones(1)
        a = d.pair_rows_kernel(d.CODE_TV, False, False)(P, Q, i, i, s, s, 0.0, 0.5, 0.5)[0]
        kernel = d.pair_rows_kernel(d.CODE_TV, False, True)
        b = kernel(P, Q, i, i, s, s, 0.0, 0.5, 0.5)[0]
        print(sum(kernel.stats.cache_hits.values()), a[0] == b[0])
        from divkit.mmd import _kernels as k
        X = np.arange(12.0).reshape(6, 2)
        args = (X, X, np.ascontiguousarray(X.T), np.empty(0), np.empty(0), True, np.ones(1), np.ones(1),
                1.0, 1.0, 3, np.empty(0), np.empty(0), False)
        c = k.kernel_sum_kernel(k.GAUSSIAN, k.BASE_SQDIST, False, False)(*args, 1)
        kernel = k.kernel_sum_kernel(k.GAUSSIAN, k.BASE_SQDIST, False, True)
        print(sum(kernel.stats.cache_hits.values()), c == kernel(*args, 2))
        """,
        tmp_path,
    )
    assert out.splitlines() == ["0 True"] * 3  # each parallel build compiled its own code
