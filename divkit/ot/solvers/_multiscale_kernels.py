"""Numba kernels of the multiscale solver: kd-tree construction, hierarchical (branch and
bound) pair searches, arc refinement. See :mod:`divkit.ot.solvers.multiscale`.

The pair search never forms an ``n x m`` array: a query point descends the other side's tree
and skips a cell when an *upper bound* of ``f_q + g_j - c(x_q, y_j)`` over the cell (the cell's
largest potential minus the cost to the cell's bounding box) cannot beat the current
threshold. IEEE rounding is monotone and the bound is evaluated with the same operations, in
the same order, as the pair value itself, so a skipped cell provably holds no pair whose
*computed* value exceeds the threshold. No fast-math here: reassociation would break that.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

import divkit._numba  # noqa: F401  (source-keyed kernel cache: registered before any @njit)

MODE_COLLECT = 0  # record up to kmax pairs per query with value > tol
MODE_MAX = 1  # global maximum over all pairs (threshold: running max, at least tol)
MODE_PER_QUERY = 2  # exact maximum for every query (c-transforms)


@njit(cache=True)
def kd_order(x):
    """Balanced kd-tree by median splits along each cell's longest side.

    Returns ``perm`` (points in tree order) and ``starts``/``depth_off``: the cells at depth
    ``t`` are the index ranges ``[starts[depth_off[t] + k], next start or n)`` of ``perm``.
    A cell of one point is not split further (it is its own child).
    """
    n, d = x.shape
    depth = 0
    while (1 << depth) < n:
        depth += 1
    perm = np.arange(n)
    starts = np.empty((depth + 1) * n, dtype=np.int64)
    depth_off = np.empty(depth + 2, dtype=np.int64)
    starts[0] = 0
    depth_off[0] = 0
    depth_off[1] = 1
    buf = np.empty(n)
    tmp = np.empty(n, dtype=np.int64)
    for t in range(depth):
        c0 = depth_off[t]
        c1 = depth_off[t + 1]
        w = c1
        for c in range(c0, c1):
            s = starts[c]
            e = starts[c + 1] if c + 1 < c1 else n
            starts[w] = s
            w += 1
            if e - s <= 1:
                continue
            axis = 0
            widest = -1.0
            for k in range(d):
                lo = np.inf
                hi = -np.inf
                for r in range(s, e):
                    v = x[perm[r], k]
                    lo = min(lo, v)
                    hi = max(hi, v)
                if hi - lo > widest:
                    widest = hi - lo
                    axis = k
            for r in range(s, e):
                buf[r - s] = x[perm[r], axis]
            order = np.argsort(buf[: e - s], kind="mergesort")
            for r in range(e - s):
                tmp[r] = perm[s + order[r]]
            for r in range(e - s):
                perm[s + r] = tmp[r]
            starts[w] = (s + e) // 2
            w += 1
        depth_off[t + 2] = w
    return perm, starts[: depth_off[depth + 1]].copy(), depth_off


@njit(cache=True, inline="always")
def _finish(s, power):
    if power == 2.0:
        return s
    if power == 1.0:
        return math.sqrt(s)
    return s ** (0.5 * power)


@njit(cache=True, inline="always")
def point_cost(x, i, y, j, power):
    """``||x_i - y_j||^power`` (the same operation order as :func:`_box_cost`)."""
    s = 0.0
    for k in range(x.shape[1]):
        t = x[i, k] - y[j, k]
        s += t * t
    return _finish(s, power)


@njit(cache=True, inline="always")
def _box_cost(x, i, lo, hi, node, power):
    """Lower bound of ``||x_i - y||^power`` over ``y`` in the box of ``node``."""
    s = 0.0
    for k in range(x.shape[1]):
        xv = x[i, k]
        if xv < lo[node, k]:
            t = xv - lo[node, k]
        elif xv > hi[node, k]:
            t = xv - hi[node, k]
        else:
            t = 0.0
        s += t * t
    return _finish(s, power)


@njit(cache=True, inline="always")
def _box_box_cost(glo, ghi, g, lo, hi, node, power):
    """Lower bound of ``||x - y||^power`` over ``x`` in box ``g`` of ``glo/ghi`` and ``y`` in the
    box of ``node`` (each gap is computed from the box corners, which bound the gap of any
    pair of points inside in IEEE arithmetic too: rounding is monotone)."""
    s = 0.0
    for k in range(glo.shape[1]):
        if ghi[g, k] < lo[node, k]:
            t = lo[node, k] - ghi[g, k]
        elif glo[g, k] > hi[node, k]:
            t = glo[g, k] - hi[node, k]
        else:
            t = 0.0
        s += t * t
    return _finish(s, power)


@njit(cache=True)
def pair_search(mode, xq, fq, group_start, group_lo, group_hi, group_fmax, lo, hi, first, endc,
                vmax, leafpos, leafval, leaf_off, leaf_end, leaf_first, leaf_stop, bucket,
                frontier_leaves, power, tol, kmax):
    """Search ``max_j fq[q] + v_j - ||xq[q] - y_j||^power`` over the leaves of a tree.

    Tree: nodes ``0..`` (node 0 the root), children of ``u`` are ``first[u]..endc[u]-1``; the
    leaves searched are the nodes ``leaf_off..leaf_end-1`` (one depth of the tree), with
    positions ``leafpos[leaf]`` and values ``leafval[leaf]`` (leaf-local indices); ``vmax[u]``
    bounds the values below ``u``; ``leaf_first[u]..leaf_stop[u]-1`` are the leaves below
    ``u``, evaluated directly when there are at most ``bucket`` of them.

    Queries come in groups ``group_start[G]..group_start[G+1]-1`` (spatially close ones: cells
    of the query side's tree) with a box ``group_lo/hi[G]`` holding their positions and
    ``group_fmax[G] >= fq`` over the group. Each group first descends the tree once with the
    group's bound (box to box) down to cells of at most ``frontier_leaves`` leaves; each of its
    queries then starts from that frontier instead of the root, so the top of the tree is
    walked once per group, not once per query. ``frontier_leaves = 0`` (and MODE_PER_QUERY,
    whose threshold is per query) starts every query at the root.

    Returns ``(per_query, cols, counts, best, best_q, best_j)``: ``per_query[q]`` the maximum
    for ``q`` (exact in MODE_PER_QUERY, else a lower bound), ``cols[q*kmax + r]`` the recorded
    leaves (MODE_COLLECT), and the global maximum with its pair.
    """
    nq = xq.shape[0]
    per_query = np.full(nq, -np.inf)
    kk = kmax if mode == MODE_COLLECT else 1
    cols = np.full(nq * kk, -1, dtype=np.int64)
    recv = np.full(nq * kk, -np.inf)
    counts = np.zeros(nq, dtype=np.int64)
    n_nodes = first.shape[0]
    frontier = np.empty(n_nodes, dtype=np.int64)
    gstack = np.empty(256, dtype=np.int64)  # DFS of a binary tree of depth < 64: <= depth + 2
    stack = np.empty(n_nodes + 256, dtype=np.int64)
    best = -np.inf
    best_q = -1
    best_j = -1
    grouped = frontier_leaves > 0 and mode != MODE_PER_QUERY
    for grp in range(group_start.shape[0] - 1):
        nf = 0
        if grouped:
            thr = tol if mode == MODE_COLLECT else max(tol, best)
            gf = group_fmax[grp]
            if (gf + vmax[0]) - _box_box_cost(group_lo, group_hi, grp, lo, hi, 0, power) > thr:
                gstack[0] = 0
                gtop = 1
                while gtop > 0:
                    gtop -= 1
                    u = gstack[gtop]
                    if u >= leaf_off or leaf_stop[u] - leaf_first[u] <= frontier_leaves:
                        frontier[nf] = u
                        nf += 1
                        continue
                    for c in range(first[u], endc[u]):
                        if (gf + vmax[c]) - _box_box_cost(group_lo, group_hi, grp, lo, hi, c, power) > thr:
                            gstack[gtop] = c
                            gtop += 1
        else:
            frontier[0] = 0
            nf = 1
        for q in range(group_start[grp], group_start[grp + 1]):
            fqq = fq[q]
            qbest = -np.inf
            if mode == MODE_COLLECT:
                thr = tol
            elif mode == MODE_MAX:
                thr = max(tol, best)
            else:
                thr = -np.inf
            top = 0
            for r in range(nf - 1, -1, -1):  # popped in the frontier's order
                u = frontier[r]
                if (fqq + vmax[u]) - _box_cost(xq, q, lo, hi, u, power) > thr:
                    stack[top] = u
                    top += 1
            while top > 0:
                top -= 1
                u = stack[top]
                if u >= leaf_off:
                    j0 = u - leaf_off
                    j1 = j0 + 1
                else:
                    j0 = leaf_first[u]
                    j1 = leaf_stop[u]
                    if j1 - j0 > bucket:
                        j1 = j0
                for j in range(j0, j1):  # a leaf, or every leaf of a small cell (no bounds)
                    val = (fqq + leafval[j]) - point_cost(xq, q, leafpos, j, power)
                    qbest = max(qbest, val)
                    if mode == MODE_COLLECT and val > tol:
                        base = q * kk
                        if counts[q] < kk:
                            cols[base + counts[q]] = j
                            recv[base + counts[q]] = val
                            counts[q] += 1
                        else:  # replace the smallest recorded value
                            r_min = 0
                            for r in range(1, kk):
                                if recv[base + r] < recv[base + r_min]:
                                    r_min = r
                            if val > recv[base + r_min]:
                                cols[base + r_min] = j
                                recv[base + r_min] = val
                    if val > best:
                        best = val
                        best_q = q
                        best_j = j
                if j1 > j0:
                    continue
                if mode == MODE_COLLECT:
                    thr = tol
                elif mode == MODE_MAX:
                    thr = max(tol, best)
                else:
                    thr = qbest
                c0 = first[u]
                c1 = endc[u]
                if c1 - c0 == 1:
                    cb = (fqq + vmax[c0]) - _box_cost(xq, q, lo, hi, c0, power)
                    if cb > thr:
                        stack[top] = c0
                        top += 1
                    continue
                # push the worse child first so that the better one is explored first
                b0 = (fqq + vmax[c0]) - _box_cost(xq, q, lo, hi, c0, power)
                b1 = (fqq + vmax[c0 + 1]) - _box_cost(xq, q, lo, hi, c0 + 1, power)
                if b0 >= b1:
                    if b1 > thr:
                        stack[top] = c0 + 1
                        top += 1
                    if b0 > thr:
                        stack[top] = c0
                        top += 1
                else:
                    if b0 > thr:
                        stack[top] = c0
                        top += 1
                    if b1 > thr:
                        stack[top] = c0 + 1
                        top += 1
            per_query[q] = qbest
    return per_query, cols, counts, best, best_q, best_j


@njit(cache=True)
def refine_arcs(rows, cols, xlo, xhi, ylo, yhi):
    """All children pairs ``(i, j)``, ``i in [xlo[I], xhi[I])``, ``j in [ylo[J], yhi[J])``, of
    the coarse arcs ``(I, J)``."""
    total = 0
    for k in range(rows.shape[0]):
        total += (xhi[rows[k]] - xlo[rows[k]]) * (yhi[cols[k]] - ylo[cols[k]])
    src = np.empty(total, dtype=np.int64)
    dst = np.empty(total, dtype=np.int64)
    w = 0
    for k in range(rows.shape[0]):
        for i in range(xlo[rows[k]], xhi[rows[k]]):
            for j in range(ylo[cols[k]], yhi[cols[k]]):
                src[w] = i
                dst[w] = j
                w += 1
    return src, dst


@njit(cache=True)
def arc_costs(src, dst, x, y, power):
    out = np.empty(src.shape[0])
    for k in range(src.shape[0]):
        out[k] = point_cost(x, src[k], y, dst[k], power)
    return out
