"""Compile structure behind the first-call time (issue 14 point 3).

* Each divergence code has its own row-loop kernel, built on first use: a call compiles its own
  formula only (checked in a fresh process on an empty cache: the formula helpers of other codes
  are never compiled).
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
        print(sorted(d._PAIR_ROWS_KERNELS))
        divkit.kl([0.5, 0.5], [0.25, 0.75])
        print([h.py_func.__name__ for h in helpers if h.signatures])
        """,
        tmp_path,
    )
    tv_helpers, tv_kernels, kl_helpers = out.splitlines()
    assert tv_helpers == "[]"  # TV's kernel holds |p - q| / 2 only: no logarithm compiled
    assert tv_kernels == f"[({_discrete.CODE_TV}, False, False)]"  # small input: serial fast pass only
    assert kl_helpers == "['_log_ratio']"  # KL's fast pass needs the log ratio, nothing else


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
        """,
        tmp_path,
    )
    assert out.splitlines() == ["0 True", "0 True"]  # each parallel build compiled its own code
