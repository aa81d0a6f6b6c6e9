"""Multiscale sparse exact OT (issue 12): costs against the dense network simplex and POT on
random and degenerate problems, the all-pairs certificate on its own, grids, bad input."""

import numpy as np
import ot
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from naive import naive_cost_matrix, naive_transport_lp

from divkit.ot import OptimalityError, OTResult, emd
from divkit.ot.solvers import _sparse_simplex
from divkit.ot.solvers._multiscale_kernels import MODE_COLLECT, MODE_MAX
from divkit.ot.solvers.multiscale import (
    _build_tree,
    _search,
    all_pairs_dual_violation,
    grid_points,
    multiscale_wasserstein,
    solve_multiscale,
    wasserstein_grid,
)

RTOL = 1e-9


def dense_cost(x, y, p):
    x = np.asarray(x, float).reshape(len(x), -1)
    y = np.asarray(y, float).reshape(len(y), -1)
    D = np.sqrt(((x[:, None, :] - y[None, :, :]) ** 2).sum(-1))
    return D**p


def check_against_dense(x, y, a, b, p=2.0, **kw):
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    an, bn = a / a.sum(), b / b.sum()
    res = multiscale_wasserstein(x, y, an, bn, p=p, return_result=True, **kw)
    C = dense_cost(x, y, p)
    ref = emd(an, bn, C).cost
    scale = float(C.max()) if C.size else 1.0
    assert abs(res.cost - ref) <= RTOL * max(abs(ref), 1e-300) + 1e-14 * scale, (res.cost, ref)
    pot = ot.emd2(an, bn, C, numItermax=10**7)
    assert abs(res.cost - pot) <= 1e-8 * max(abs(ref), 1e-300) + 1e-12 * scale
    # independent checks of the result
    G = res.dense_plan()
    assert np.all(G >= 0)
    np.testing.assert_allclose(G.sum(1), an, atol=1e-13)
    np.testing.assert_allclose(G.sum(0), bn, atol=1e-13)
    assert np.max(res.f[:, None] + res.g[None, :] - C) <= 1e-12 * max(scale, 1e-300)
    assert abs(float(an @ res.f + bn @ res.g) - ref) <= 1e-12 * max(scale, 1e-300) + RTOL * ref
    assert res.certificate.is_optimal()
    return res


@st.composite
def problems(draw):
    d = draw(st.integers(1, 3))
    n = draw(st.integers(1, 14))
    m = draw(st.integers(1, 14))
    integer = draw(st.booleans())  # integer coordinates: ties and duplicates
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    if integer:
        x = rng.integers(0, 3, (n, d)).astype(float)
        y = rng.integers(0, 3, (m, d)).astype(float)
    else:
        x = rng.standard_normal((n, d)) * draw(st.sampled_from([1e-3, 1.0, 1e3]))
        y = rng.standard_normal((m, d)) * (1.0 if draw(st.booleans()) else 1e-3)
    a = rng.integers(0, 4, n).astype(float) if integer else rng.random(n)
    b = rng.integers(0, 4, m).astype(float) if integer else rng.random(m)
    if draw(st.booleans()):  # zero masses
        a[rng.random(n) < 0.3] = 0.0
        b[rng.random(m) < 0.3] = 0.0
    if a.sum() == 0:
        a[0] = 1.0
    if b.sum() == 0:
        b[-1] = 1.0
    p = draw(st.sampled_from([1.0, 2.0, 3.0]))
    top = draw(st.sampled_from([1, 2, 4, 256]))
    return x, y, a, b, p, top


@settings(max_examples=60)
@given(problems())
def test_property_random_and_degenerate_match_dense_and_pot(prob):
    x, y, a, b, p, top = prob
    check_against_dense(x, y, a, b, p=p, top_size=top)


@pytest.mark.parametrize("shape_a, shape_b", [((5, 9), (5, 9)), ((3, 11), (7, 4)), ((16, 16), (16, 16)),
                                              ((1, 20), (20, 1))])
def test_grids_nonsquare_zero_mass_match_dense(shape_a, shape_b, rng):
    A = rng.random(shape_a) ** 3
    B = rng.random(shape_b) ** 3
    A[rng.random(shape_a) < 0.3] = 0
    B[rng.random(shape_b) < 0.3] = 0
    A /= A.sum()
    B /= B.sum()
    res = wasserstein_grid(A, B, return_result=True, top_size=4)
    C = naive_cost_matrix(grid_points(shape_a), grid_points(shape_b), "sqeuclidean")
    ref = emd(A.ravel() / A.sum(), B.ravel() / B.sum(), C).cost
    assert abs(res.cost - ref) <= RTOL * ref
    assert isinstance(res, OTResult) and sp.issparse(res.plan)
    assert res.solver == "multiscale-network-simplex"
    sol = solve_multiscale(grid_points(shape_a), grid_points(shape_b), A.ravel(), B.ravel(), top_size=4)
    assert sol.levels >= 2 and abs(sol.cost - res.cost) <= RTOL * ref


def test_dotmark_like_32x32_against_dense_and_pot(rng):
    yy, xx = np.mgrid[0:32, 0:32]
    imgs = []
    for _ in range(2):
        img = np.zeros((32, 32))
        for _ in range(5):
            c = rng.random(2) * 32
            s = rng.random() * 3 + 1
            img += 1 / (1 + ((xx - c[0]) ** 2 + (yy - c[1]) ** 2) / s**2)
        imgs.append(img / img.sum())
    res = wasserstein_grid(imgs[0], imgs[1], return_result=True)
    C = dense_cost(grid_points((32, 32)), grid_points((32, 32)), 2.0)
    ref = emd(imgs[0].ravel(), imgs[1].ravel(), C).cost
    pot = ot.emd2(imgs[0].ravel(), imgs[1].ravel(), C, numItermax=10**7)
    assert abs(res.cost - ref) <= RTOL * ref
    assert abs(res.cost - pot) <= RTOL * ref
    sol = solve_multiscale(grid_points((32, 32)), grid_points((32, 32)), imgs[0].ravel(), imgs[1].ravel())
    assert sol.levels >= 2 and sol.arcs < 1024 * 1024 // 4


def test_clouds_1d_3d_and_duplicates(rng):
    x = rng.integers(0, 4, (60, 3)).astype(float)  # many duplicate points
    y = rng.integers(0, 4, (45, 3)).astype(float)
    check_against_dense(x, y, rng.random(60), rng.random(45), p=2.0, top_size=8)
    check_against_dense(rng.random(80), rng.random(70), np.ones(80), np.ones(70), p=1.0, top_size=4)
    z = np.zeros((10, 2))  # all points identical: cost 0
    assert multiscale_wasserstein(z, z[:7]) == 0.0


def test_single_points():
    assert multiscale_wasserstein([[0.0, 0.0]], [[3.0, 4.0]], p=1) == pytest.approx(5.0, rel=1e-15)
    r = multiscale_wasserstein([[0.0], [2.0]], [[1.0]], p=2, return_result=True)
    assert r.cost == pytest.approx(1.0, rel=1e-15)


@pytest.mark.parametrize("mag", [1e-200, 1e200])
def test_extreme_magnitudes(mag, rng):
    x = rng.random((50, 2))
    y = rng.random((40, 2))
    ref = multiscale_wasserstein(x, y, p=2)
    assert multiscale_wasserstein(x * mag, y * mag, p=2) == pytest.approx(ref * mag, rel=1e-12)


@pytest.mark.parametrize("shape_a, shape_b, p", [((40, 40), (40, 40), 2.0), ((37, 43), (41, 36), 2.0),
                                                 ((30, 30), (30, 30), 1.0)])
def test_degenerate_grids_with_ties_many_rounds_match_dense(shape_a, shape_b, p, rng):
    """Integer-valued pixels (many exact ties), zero-mass pixels, n != m: large enough that the
    arc-adding rounds move big subtrees of the sparse simplex's tree (the thread re-linking
    path of the pivot), checked against the dense simplex and the plan's marginals."""
    A = rng.integers(0, 4, shape_a).astype(float)
    B = rng.integers(0, 4, shape_b).astype(float)
    A /= A.sum()
    B /= B.sum()
    sol = solve_multiscale(grid_points(shape_a), grid_points(shape_b), A.ravel(), B.ravel(), p=p, top_size=16)
    pivots = [sum(level["pivots"]) for level in sol.level_log]
    assert sol.levels >= 3 and sol.rounds > sol.levels and all(t > 0 for t in pivots)
    res = wasserstein_grid(A, B, p=p, return_result=True, top_size=16)
    C = naive_cost_matrix(grid_points(shape_a), grid_points(shape_b), "euclidean") ** p
    ref = emd(A.ravel(), B.ravel(), C).cost
    assert abs(res.cost - ref) <= RTOL * ref and abs(sol.cost - ref) <= RTOL * ref
    plan = res.plan.toarray()
    assert np.allclose(plan.sum(1), A.ravel(), rtol=0, atol=1e-15)
    assert np.allclose(plan.sum(0), B.ravel(), rtol=0, atol=1e-15)


def test_raw_solution_fields(rng):
    x = rng.random((200, 2))
    y = rng.random((150, 2))
    a = np.full(200, 1 / 200)
    b = np.full(150, 1 / 150)
    sol = solve_multiscale(x, y, a, b, p=2.0, top_size=16)
    assert sol.levels >= 3 and sol.iterations > 0 and sol.arcs < 200 * 150
    assert sol.rows.shape == sol.cols.shape == sol.flows.shape
    assert sol.flows.size <= 200 + 150 - 1 and np.all(sol.flows > 0)
    C = dense_cost(x, y, 2.0)
    assert np.max(sol.f[:, None] + sol.g[None, :] - C) <= sol.violation_bound


# ---------------------------------------------------------------- the sparse network simplex


def check_tree(state, n, m, a, b, pi0, arc_cost):
    """Every invariant of the sparse simplex's spanning tree, recomputed naively from ``parent``."""
    parent, pdir, pflow, pi, thread, rev, succ, last = state
    N, root = n + m + 1, n + m
    children = [[] for _ in range(N)]
    for v in range(N):
        if v != root:
            assert 0 <= parent[v] < N
            children[parent[v]].append(v)
    order = []  # every node reached from the root once
    stack = [root]
    while stack:
        v = stack.pop()
        order.append(v)
        stack.extend(children[v])
    assert sorted(order) == list(range(N))
    size = [1] * N
    for v in reversed(order):
        if v != root:
            size[parent[v]] += size[v]
    walk = [root]  # the thread is one cycle through all nodes, rev its inverse
    for _ in range(N - 1):
        walk.append(int(thread[walk[-1]]))
    assert sorted(walk) == list(range(N)) and thread[walk[-1]] == root
    assert all(rev[thread[v]] == v for v in range(N))
    pos = {v: t for t, v in enumerate(walk)}
    # a preorder: each subtree is the succ[v] nodes from v on, ending at last[v], i.e. its
    # interval of positions starts after its parent's, lies inside it, and misses its siblings'
    for v in range(N):
        assert succ[v] == size[v]
        assert last[v] == walk[pos[v] + size[v] - 1]
        kids = sorted(children[v], key=pos.get)
        start = pos[v] + 1
        for c in kids:
            assert pos[c] >= start and pos[c] + size[c] <= pos[v] + size[v]
            start = pos[c] + size[c]
    net = np.concatenate([a, -b, [0.0]])  # flow conservation, non-negative flows
    for v in range(N):
        if v != root:
            assert pflow[v] >= 0
            net[v] -= pdir[v] * pflow[v]
            net[parent[v]] += pdir[v] * pflow[v]
            # strongly feasible: a zero-flow tree arc points up (towards the root)
            assert pflow[v] > 0 or pdir[v] == 1
            # tree arcs tight: real ones at their cost, artificial ones at the cost pi0 implied
            u, w = (v, parent[v]) if pdir[v] == 1 else (parent[v], v)
            c = pi0[v] * pdir[v] if root in (u, w) else arc_cost[(u, w - n)]
            assert abs(c - pi[u] + pi[w]) <= 1e-9 * (1 + abs(pi0).max())
    assert np.allclose(net, 0.0, atol=1e-9)


def test_sparse_simplex_tree_invariants_after_every_pivot():
    """The spanning tree (parent, preorder thread, subtree sizes and last nodes, potentials) is
    checked against a naive recomputation after every single pivot, on random sparse problems
    with integer costs and masses (ties, degenerate pivots) and arcs missing; the final cost
    against an LP on the same arcs. Pivots that move the cut subtree's potentials and pivots
    that move the rest of the tree's (the larger side) both occur."""
    rng = np.random.default_rng(7)
    side_counts = {"subtree": 0, "rest": 0}
    for case in range(48):
        hi = 9 if case < 40 else 31  # small problems, then a few with deeper trees
        n, m = int(rng.integers(1, hi)), int(rng.integers(1, hi))
        a = rng.integers(1, 4, n).astype(float)
        b = rng.integers(1, 4, m).astype(float)
        b *= a.sum() / b.sum()
        keep = rng.random((n, m)) < rng.uniform(0.3, 1.0)
        i, j = 0, 0  # the north-west corner plan's arcs keep the arc set feasible
        ra, rb = a.copy(), b.copy()
        while i < n and j < m:
            keep[i, j] = True
            t = min(ra[i], rb[j])
            ra[i] -= t
            rb[j] -= t
            if ra[i] <= 1e-12 * a.sum():
                i += 1
            else:
                j += 1
        src, dst = (arr.astype(np.int64) for arr in np.nonzero(keep))
        order = rng.permutation(src.size)
        src, dst = src[order], dst[order]
        C = rng.integers(0, 6, (n, m)).astype(float)
        cost = C[src, dst]
        arc_cost = {(int(s), int(d)): float(C[s, d]) for s, d in zip(src, dst)}
        big = 1e3
        pi0 = np.concatenate([rng.integers(-2, 3, n) + big, -(rng.integers(-2, 3, m) + big), [0.0]])
        state = _sparse_simplex.init_tree(a, b, pi0)
        check_tree(state, n, m, a, b, pi0, arc_cost)
        for _pivot in range(10 * (n + m) ** 2):
            pi_before = state[3].copy()
            status, its = _sparse_simplex.run_simplex(src, dst, cost, n, *state, 1e-12, 1)
            if its:
                # the root's potential moves only when the rest of the tree is the moved side
                side_counts["rest" if state[3][n + m] != pi_before[n + m] else "subtree"] += 1
                check_tree(state, n, m, a, b, pi0, arc_cost)
            if status == _sparse_simplex.STATUS_OPTIMAL:
                break
            assert status == _sparse_simplex.STATUS_MAX_ITER
        else:
            raise AssertionError("no optimum within the pivot budget")
        parent, pdir, pflow, pi = state[:4]
        assert np.all(cost - pi[src] + pi[n + dst] >= -1e-12)
        rows, cols, flows = _sparse_simplex.tree_arcs(parent, pflow, n, m)
        on_root = parent[: n + m] == n + m
        assert np.all(pflow[: n + m][on_root] <= 1e-12)  # no flow left on artificial arcs
        ref = naive_transport_lp(a, b, C, allowed=keep)
        assert abs(float(flows @ C[rows, cols]) - ref) <= 1e-9 * max(ref, 1.0)
    assert side_counts["subtree"] > 0 and side_counts["rest"] > 0, side_counts


def test_potential_walk_over_runs_shifts_each_node_once():
    """The two-cursor potential walk (``_walk_runs``) on random trees and random runs of their
    preorder: every node of the runs moves once, no other node moves. A run is marked
    splittable only where every subtree starting in it ends in it or at ``stop`` (as in a pivot);
    runs that are not (the root's run in a pivot) must never be split."""
    rng = np.random.default_rng(11)
    for _case in range(400):
        N = int(rng.integers(2, 60))
        parent = np.full(N, -1)
        for v in range(1, N):
            parent[v] = int(rng.integers(0, v))
        children = [[] for _ in range(N)]
        for v in range(1, N):
            children[parent[v]].append(v)
        walk, stack = [], [0]
        while stack:
            v = stack.pop()
            walk.append(v)
            stack.extend(children[v][::-1])
        thread = np.empty(N, dtype=np.int64)
        for t, v in enumerate(walk):
            thread[v] = walk[(t + 1) % N]
        size = np.ones(N, dtype=np.int64)
        for v in reversed(walk[1:]):
            size[parent[v]] += size[v]
        pos = {v: t for t, v in enumerate(walk)}
        last = np.array([walk[pos[v] + size[v] - 1] for v in range(N)], dtype=np.int64)
        stop = int(rng.choice(walk))
        cuts = np.sort(rng.choice(np.arange(1, N), size=int(rng.integers(0, min(N - 1, 6) + 1)), replace=False))
        segments = [seg for seg in np.split(np.arange(N), cuts) if rng.random() < 0.7]
        rng.shuffle(segments)
        first = np.array([walk[seg[0]] for seg in segments], dtype=np.int64)
        final = np.array([walk[seg[-1]] for seg in segments], dtype=np.int64)
        closed = [all(pos[last[walk[t]]] <= seg[-1] or last[walk[t]] == stop for t in seg) for seg in segments]
        split = np.array([c and rng.random() < 0.9 for c in closed], dtype=np.bool_)
        pi = np.zeros(N)
        _sparse_simplex._walk_runs(pi, thread, last, first, final, split, len(segments), 1.0, stop)
        expect = np.zeros(N)
        for seg in segments:
            expect[[walk[t] for t in seg]] = 1.0
        np.testing.assert_array_equal(pi, expect)


# ---------------------------------------------------------------- the all-pairs certificate


def brute_violation(x, y, f, g, p):
    V = f[:, None] + g[None, :] - dense_cost(x, y, p)
    k = int(np.argmax(V))
    return max(float(V.max()), 0.0), divmod(k, V.shape[1])


@pytest.mark.parametrize("p", [1.0, 2.0])
@pytest.mark.parametrize("delta_rel", [1e-3, 1e-11])
def test_wrong_dual_far_pair_is_caught(p, delta_rel, rng):
    """An optimal dual, then one far pair made violated (by a tiny amount too): the pair lies
    where the tree prunes everything else, and the search still finds it exactly."""
    n = 600
    x = rng.random((n, 2)) * 10
    y = rng.random((n, 2)) * 10
    res = multiscale_wasserstein(x, y, p=p, return_result=True)
    f, g = res.f.copy(), res.g.copy()
    assert all_pairs_dual_violation(x, y, f, g, p=p)[0] <= 1e-12 * 200**p
    i0 = int(np.argmin(x.sum(1)))  # bottom-left corner source
    j0 = int(np.argmax(y.sum(1)))  # top-right corner sink: never on an arc of the solver
    C = dense_cost(x, y, p)
    scale = float(C.max())
    delta = delta_rel * scale
    g -= 1e-6 * scale  # strictly feasible everywhere (the solver's dual is feasible to ~1e-13)
    # raise g_j0 so that (i0, j0) is violated by delta; lower every other f so nothing else is
    g[j0] = C[i0, j0] - f[i0] + delta
    others = np.arange(n) != i0
    f[others] -= np.max(g[j0] - C[:, j0]) + f.max() + 1.0
    V = f[:, None] + g[None, :] - C
    assert np.sum(V > 0) == 1  # exactly one violated pair
    viol, pair = all_pairs_dual_violation(x, y, f, g, p=p)
    ref, ref_pair = brute_violation(x, y, f, g, p)
    assert pair == (i0, j0) == tuple(ref_pair)
    assert viol == pytest.approx(ref, rel=1e-12, abs=1e-15 * scale)
    assert viol == pytest.approx(delta, rel=1e-3)


def test_violation_search_exact_on_random_duals(rng):
    for _trial in range(5):
        x = rng.random((300, 3))
        y = rng.random((250, 3))
        f = rng.standard_normal(300) * 0.1
        g = rng.standard_normal(250) * 0.1 - 0.6
        for p in (1.0, 2.0, 3.0):
            viol, pair = all_pairs_dual_violation(x, y, f, g, p=p)
            ref, _ref_pair = brute_violation(x, y, f, g, p)
            # the oracle evaluates the cost in another operation order: agreement to rounding
            assert viol == pytest.approx(ref, rel=1e-13, abs=1e-15)
            if ref > 0:
                at_pair = f[pair[0]] + g[pair[1]] - dense_cost(x[[pair[0]]], y[[pair[1]]], p)[0, 0]
                assert at_pair == pytest.approx(ref, rel=1e-13, abs=1e-15)
    assert all_pairs_dual_violation([[0.0]], [[1.0]], [0.0], [0.0]) == (0.0, (-1, -1))


@settings(max_examples=40, deadline=None)
@given(d=st.integers(1, 3), n=st.integers(1, 300), m=st.integers(1, 300), integer=st.booleans(),
       scale=st.sampled_from([1e-100, 1e-3, 1.0, 1e3, 1e90]), quantile=st.sampled_from([0.0, 0.9, 0.999]),
       seed=st.integers(0, 2**31 - 1))
def test_grouped_pair_search_finds_what_brute_force_finds(d, n, m, integer, scale, quantile, seed):
    """The pair search with query groups and frontiers (what the solver and the certificate
    run) against every pair evaluated in the same operation order: the same pairs above the
    threshold, and the same maximum to the last bit. Integer points give ties and duplicates;
    the potentials are made tight on a random matching so that many pairs sit at the threshold."""
    rng = np.random.default_rng(seed)
    if integer:
        x = rng.integers(0, 4, (n, d)).astype(float) * scale
        y = rng.integers(0, 4, (m, d)).astype(float) * scale
    else:
        x = rng.random((n, d)) * scale
        y = rng.random((m, d)) * scale
    tx = _build_tree(x, np.ones(n))
    ty = _build_tree(y, np.ones(m))
    xq, yl = x[tx.perm], y[ty.perm]
    C = ((xq[:, None, :] - yl[None, :, :]) ** 2).sum(-1)  # the kernel's order for p = 2
    g = rng.standard_normal(m) * scale**2
    f = np.min(C - g[None, :], axis=1)  # c-transform: f_i + g_j <= c_ij, equality somewhere
    f[rng.random(n) < 0.3] += rng.random() * scale**2  # and some rows violated
    V = (f[:, None] + g[None, :]) - C
    tol = float(np.quantile(V, quantile))
    _, cols, counts, best, bq, bj = _search(MODE_COLLECT, xq, f, ty, ty.depth, g, 2.0, tol, m,
                                            query_tree=tx, query_depth=tx.depth)
    for q in range(n):
        assert sorted(cols[q * m:q * m + counts[q]]) == list(np.flatnonzero(V[q] > tol))
    _, _, _, best, bq, bj = _search(MODE_MAX, xq, f, ty, ty.depth, g, 2.0, 0.0,
                                    query_tree=tx, query_depth=tx.depth)
    if V.max() > 0:
        assert best == V.max() and V[bq, bj] == best
    else:
        assert not best > 0


def test_certificate_rejects_wrong_potentials(rng):
    """The certificate recomputes the violation itself: a solution with a violated far pair
    is not certified optimal."""
    from divkit.ot.solvers import multiscale as ms

    x = rng.random((100, 2))
    y = rng.random((100, 2))
    a = np.full(100, 0.01)
    sol = solve_multiscale(x, y, a, a, p=2.0, top_size=8)
    g = sol.g.copy()
    g[0] += 10.0
    bad = ms.MultiscaleSolution(sol.rows, sol.cols, sol.flows, sol.f, g, sol.cost, sol.iterations,
                                sol.levels, sol.rounds, sol.arcs, sol.violation_bound)
    with pytest.raises(OptimalityError):
        ms.finish_multiscale(x, y, a, a, bad, 2.0, 1e-9)


# ---------------------------------------------------------------- bad input


def test_bad_input():
    x = np.zeros((3, 2))
    with pytest.raises(ValueError, match="x"):
        multiscale_wasserstein([[np.nan, 0.0]], x)
    with pytest.raises(ValueError, match="dimension"):
        multiscale_wasserstein(x, np.zeros((3, 3)))
    with pytest.raises(ValueError, match="a"):
        multiscale_wasserstein(x, x, a=[1.0, -1.0, 1.0])
    with pytest.raises(ValueError, match="total mass"):
        multiscale_wasserstein(x, x, a=[1.0, 1.0, 1.0], b=[1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="weights"):
        multiscale_wasserstein(x, x, a=[1.0, 1.0])
    with pytest.raises(ValueError, match="metric"):
        multiscale_wasserstein(x, x, metric="cityblock")
    with pytest.raises(ValueError, match="p"):
        multiscale_wasserstein(x, x, p=0.5)
    with pytest.raises(TypeError, match="top_size"):
        multiscale_wasserstein(x, x, top_size=2.5)
    with pytest.raises(ValueError, match="level_step"):
        multiscale_wasserstein(x, x, level_step=0)
    with pytest.raises(ValueError, match="empty"):
        multiscale_wasserstein(np.zeros((0, 2)), x)
    with pytest.raises(ValueError, match="non-negative"):
        wasserstein_grid(-np.ones((2, 2)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="same dimension"):
        wasserstein_grid(np.ones((2, 2)), np.ones(4))
    with pytest.raises(ValueError, match="a"):
        wasserstein_grid(np.full((2, 2), np.inf), np.ones((2, 2)))
    with pytest.raises(ValueError, match="total mass"):
        wasserstein_grid(np.zeros((2, 2)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="spacing"):
        wasserstein_grid(np.ones((2, 2)), np.ones((2, 2)), spacing=0.0)
    with pytest.raises(ValueError, match="shape"):
        grid_points((0, 3))
    with pytest.raises(ValueError, match="lengths"):
        all_pairs_dual_violation(x, x, [0.0], [0.0, 0.0, 0.0])


def test_wasserstein_auto_routes_large_low_dimensional_clouds_to_multiscale(rng):
    """divkit.wasserstein(method='auto') picks the multiscale solver above MULTISCALE_MIN_PAIRS
    (saying so on the result) and agrees with the dense network simplex."""
    from divkit import wasserstein
    from divkit.ot.api import MULTISCALE_MIN_PAIRS

    n = int(np.ceil(np.sqrt(MULTISCALE_MIN_PAIRS)))
    x = rng.random((n, 2))
    y = rng.random((n, 2)) + [0.3, 0.0]
    res = wasserstein(x, y, p=2, return_result=True)
    assert res.solver == "multiscale-network-simplex" and res.certificate.is_optimal()
    dense = wasserstein(x, y, p=2, method="network_simplex", return_result=True)
    assert dense.solver != "multiscale-network-simplex"
    assert abs(res.distance - dense.distance) <= 1e-9 * dense.distance
    assert wasserstein(x, y, p=2) == res.distance
    small = wasserstein(x[:100], y[:100], p=2, return_result=True)
    assert small.solver != "multiscale-network-simplex"
