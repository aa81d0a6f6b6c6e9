"""Numba kernels of the primal network simplex for the transportation problem.

The network has ``n`` source nodes (supplies ``a``), ``m`` sink nodes (demands ``b``) and one
artificial root ``R = n + m``. Real arcs ``i -> n + j`` carry cost ``C_ij``; every node also has
an artificial arc to or from ``R`` (Ahuja, Magnanti & Orlin, *Network Flows*, 1993, §11.2: the
"artificial" initial basis). Artificial arcs only ever leave the basis.

The spanning tree is stored per node (the arc to the parent is identified by the node):

``parent[v]``  parent node (``R`` for the root's children; the root's parent is -1)
``pdir[v]``    +1 if the tree arc points ``v -> parent[v]``, -1 if ``parent[v] -> v``
``pflow[v]``   flow on the arc ``(v, parent[v])``
``thread``     successor of ``v`` in a depth-first preorder of the tree (circular via ``R``)
``rev``        predecessor in the same order
``depth[v]``   number of arcs between ``v`` and ``R``
``pi[v]``      node potential; the reduced cost of arc ``u -> w`` is ``c - pi[u] + pi[w]``

The transportation problem is uncapacitated, so non-tree arcs always carry zero flow and the
flows live on the ``n + m`` tree arcs only: apart from ``C`` itself the memory is O(n + m).

Anti-cycling: the initial tree is strongly feasible (every zero-flow arc points away from the
root) and the leaving arc is the *last* blocking arc met when the pivot cycle is traversed from
its apex in the direction of the entering arc (AMO §11.5); this keeps every tree strongly
feasible, so the simplex terminates without cycling (Cunningham 1976).

Pricing is Bonneel et al.'s block search (SIGGRAPH Asia 2011, after Grigoriadis 1986): scan
blocks of ``block`` arcs cyclically and enter the most negative reduced cost of the first
block holding one. Each scan also remembers its last few running-minimum arcs; they are
re-priced first after the pivot (a candidate list, AMO §11.5), which saves ~15% of the scans.
The scan itself takes eight arcs at a time through a branch-free min tree on slices (so that
numba can prove indices non-negative and the loop vectorises).

Re-hanging the subtree cut off by the leaving arc (re-rooting it at the entering arc's end)
is one walk over that subtree that re-threads it, fixes depths and shifts potentials
(AMO §11.3); the apex of the pivot cycle is found with the depths.

Reduced costs are computed as ``(C_ij - cmin) - pi[i] + pi[n + j]`` (or, when
``|min C| <= max C - min C`` and no digits are at stake, with ``cmin`` folded into the row's
threshold) so that costs sitting on a large offset (``1e30 + O(1)``) lose no precision; the
optimality tolerance is relative to the scale of the potentials (see
:mod:`divkit.ot.solvers.network_simplex`).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..._numba import FASTMATH, filled_float, filled_int, next_task
from ..problem import low_cost, median_in_place, min_max_finite, point_cost
from ..result import certify_dense

#: row segments shorter than this are priced by a plain loop: below it the call and the slices
#: of the 8-wide scan cost more than they save (measured on batches of n x n problems, time per
#: problem, 48 -> 128: n = 50 20 % less, n = 100 6 % less, n = 200 and 400 unchanged; 256 was
#: 10 % slower at n = 200; single problems at n = 2000 unchanged)
SHORT_SEGMENT = 128

#: phases of :func:`solve_dense`
PHASE_COLUMNS = 0
PHASE_ROWS = 1
PHASE_PRICED = 2

#: status codes returned by the kernels
STATUS_OPTIMAL = 0
STATUS_MAX_ITER = 1
STATUS_UNBOUNDED = 2


@njit(cache=True)
def _init_tree(a, b, pi0):
    """Artificial strongly feasible starting tree with node potentials ``pi0``.

    Source ``i`` with ``a_i > 0`` hangs from the root by ``i -> R`` (flow ``a_i``); a zero-mass
    source hangs by ``R -> i`` (flow 0, pointing away from the root); sink ``j`` hangs by
    ``R -> j`` (flow ``b_j``). The artificial arc costs are implied by ``pi0`` (their reduced
    costs vanish); the caller chooses ``pi0`` so that routing mass through ``R`` always costs
    more than any real arc, hence artificial arcs end with zero flow.
    """
    n = a.shape[0]
    m = b.shape[0]
    N = n + m + 1
    root = n + m
    parent = np.empty(N, dtype=np.int64)
    pdir = np.empty(N, dtype=np.int64)
    pflow = filled_float(N, 0.0)
    pi = np.empty(N)
    thread = np.empty(N, dtype=np.int64)
    rev = np.empty(N, dtype=np.int64)
    depth = filled_int(N, 1)
    for v in range(N):
        thread[v] = v + 1
        rev[v] = v - 1
        pi[v] = pi0[v]
    thread[root - 1] = root
    thread[root] = 0
    rev[0] = root
    depth[root] = 0
    parent[root] = -1
    pdir[root] = 0
    for i in range(n):
        parent[i] = root
        if a[i] > 0:
            pdir[i] = 1
            pflow[i] = a[i]
        else:
            pdir[i] = -1
    for j in range(m):
        v = n + j
        parent[v] = root
        pdir[v] = -1
        pflow[v] = b[j]
    return parent, pdir, pflow, pi, thread, rev, depth


@njit(cache=True, inline="always")
def _pivot(u, v, rc, parent, pdir, pflow, pi, thread, rev, depth, upath, vpath):
    """Enter arc ``u -> v`` (reduced cost ``rc < 0``), push flow round its cycle, re-hang the
    cut-off subtree. Returns False when the cycle has no blocking arc (unbounded)."""
    # apex of the cycle: climb from the deeper end until both meet
    nu = 0
    nv = 0
    x = u
    y = v
    while depth[x] > depth[y]:
        upath[nu] = x
        nu += 1
        x = parent[x]
    while depth[y] > depth[x]:
        vpath[nv] = y
        nv += 1
        y = parent[y]
    while x != y:
        upath[nu] = x
        nu += 1
        x = parent[x]
        vpath[nv] = y
        nv += 1
        y = parent[y]

    # leaving arc: the last blocking arc in cycle order apex -> u -> v -> apex.
    # u side (traversed downwards): blocking when the arc points child -> parent; the deepest
    # tie is last in cycle order, so scan upwards with a strict comparison.
    delta = np.inf
    side = 0
    idx = -1
    for t in range(nu):
        w = upath[t]
        if pdir[w] == 1 and pflow[w] < delta:
            delta = pflow[w]
            side = 1
            idx = t
    # v side (traversed upwards): blocking when the arc points parent -> child; ties go to the
    # one nearest the apex, and beat the u side.
    for t in range(nv):
        w = vpath[t]
        if pdir[w] == -1 and pflow[w] <= delta:
            delta = pflow[w]
            side = 2
            idx = t
    if idx < 0:
        return False

    if delta > 0:
        for t in range(nu):
            w = upath[t]
            if pdir[w] == 1:
                pflow[w] -= delta
            else:
                pflow[w] += delta
        for t in range(nv):
            w = vpath[t]
            if pdir[w] == -1:
                pflow[w] -= delta
            else:
                pflow[w] += delta

    # the subtree below the leaving arc contains q (u or v); it is re-rooted at q and hung
    # from p, the other end of the entering arc.
    if side == 1:
        path = upath
        p = v
        new_dir = 1
        shift = rc
    else:
        path = vpath
        p = u
        new_dir = -1
        shift = -rc
    k = idx

    # One walk over the moved subtree S re-threads it, fixes depths and shifts potentials.
    # New preorder: for t = 0..k, the old subtree of path[t] minus the old subtree of
    # path[t-1], each in old thread order (re-rooting S at path[0], AMO §11.3). A node's old
    # depth and thread are read before the node is visited, so updating in place is safe.
    out = path[k]
    before = rev[out]
    base = depth[p] + 1
    last = -1
    after_prev = -1
    x = -1
    for t in range(k + 1):
        w = path[t]
        dw = depth[w]
        off = base + t - dw
        x = thread[w]
        depth[w] = base + t
        pi[w] += shift
        if last >= 0:
            thread[last] = w
            rev[w] = last
        last = w
        while True:
            if t > 0 and x == path[t - 1]:
                x = after_prev  # skip the block already placed
                continue
            if depth[x] <= dw:
                break
            nx = thread[x]
            depth[x] += off
            pi[x] += shift
            thread[last] = x
            rev[x] = last
            last = x
            x = nx
        after_prev = x
    after = x
    first = path[0]

    # reverse parent pointers along the path
    prev_par = p
    prev_dir = new_dir
    prev_flow = delta
    for t in range(k + 1):
        w = path[t]
        old_dir = pdir[w]
        old_flow = pflow[w]
        parent[w] = prev_par
        pdir[w] = prev_dir
        pflow[w] = prev_flow
        prev_par = w
        prev_dir = -old_dir
        prev_flow = old_flow

    # cut the old block out of the thread, then splice the new order in right after p
    thread[before] = after
    rev[after] = before
    nxt = thread[p]
    thread[p] = first
    rev[first] = p
    thread[last] = nxt
    rev[nxt] = last
    return True


@njit(cache=True, inline="always")
def _record(cand_i, cand_j, n_cand, i, j):
    """Append arc (i, j) to the ring of candidate arcs (the running-minimum records of a scan)."""
    k = cand_i.shape[0]
    if k > 0:
        pos = n_cand[0] % k
        cand_i[pos] = i
        cand_j[pos] = j
        n_cand[0] += 1


@njit(cache=True, fastmath=FASTMATH)
def _scan_row(cs, ps, cmin, j0, thr, i, cand_i, cand_j, n_cand):
    """Smallest ``(cs[q] - cmin) + ps[q]`` below ``thr``, where ``cs`` and ``ps`` are the
    costs and potentials of arcs ``j0 + q``; the arc index returned and recorded is ``j0 + q``.

    Eight arcs at a time through a branch-free min tree (the loop with an index-tracking
    branch per arc does not vectorise; this runs several times faster); the arc is located
    only when the chunk improves on ``thr``. Returns ``(thr, j)``, ``j = -1`` when nothing is
    below ``thr``.
    """
    # callers pass slices, so that every index below is provably >= 0: numba's negative-index
    # wraparound check would otherwise stop the loop from vectorising (2x slower)
    length = cs.shape[0]
    found = -1
    n_chunks = length // 8
    for c in range(n_chunks):
        jj = 8 * c
        r0 = (cs[jj] - cmin) + ps[jj]
        r1 = (cs[jj + 1] - cmin) + ps[jj + 1]
        r2 = (cs[jj + 2] - cmin) + ps[jj + 2]
        r3 = (cs[jj + 3] - cmin) + ps[jj + 3]
        r4 = (cs[jj + 4] - cmin) + ps[jj + 4]
        r5 = (cs[jj + 5] - cmin) + ps[jj + 5]
        r6 = (cs[jj + 6] - cmin) + ps[jj + 6]
        r7 = (cs[jj + 7] - cmin) + ps[jj + 7]
        low = min(min(min(r0, r1), min(r2, r3)), min(min(r4, r5), min(r6, r7)))
        if low < thr:
            thr = low
            for q in range(8):
                if (cs[jj + q] - cmin) + ps[jj + q] == low:
                    found = j0 + jj + q
                    break
            _record(cand_i, cand_j, n_cand, i, found)
    for jj in range(8 * n_chunks, length):
        r = (cs[jj] - cmin) + ps[jj]
        if r < thr:
            thr = r
            found = j0 + jj
            _record(cand_i, cand_j, n_cand, i, found)
    return thr, found


@njit(cache=True, fastmath=FASTMATH)
def _price_dense(C, cmin, pi, n, m, start, block, tol, shifted, cand_i, cand_j, n_cand):
    """Block search from arc ``start``: the most negative reduced cost in the first block that
    holds one below ``-tol``. Returns ``(i, j, rc, next_start)``, ``i = -1`` when none.

    ``shifted`` selects exact ``(C_ij - cmin)`` arithmetic (costs on a large offset) over the
    cheaper form with ``cmin`` folded into the row threshold."""
    total = n * m
    i = start // m
    j = start - i * m
    pis = pi[n : n + m]
    best = -tol
    bi = -1
    bj = -1
    scanned = 0
    while scanned < total:
        todo = min(block, total - scanned)
        scanned += todo
        while todo > 0:
            jend = min(m, j + todo)
            if jend - j < SHORT_SEGMENT:
                # short rows (small problems): a plain loop beats the call and slicing overhead
                pii = pi[i]
                for jj in range(j, jend):
                    r = ((C[i, jj] - cmin) - pii) + pi[n + jj]
                    if r < best:
                        best = r
                        bi = i
                        bj = jj
                        _record(cand_i, cand_j, n_cand, i, jj)
                thr = best
                found = -1
            else:
                # shifted: exact (C_ij - cmin); otherwise cmin is folded into the threshold and
                # the scan subtracts 0.0, which changes no bit (x - 0.0 == x for every x). One
                # scanner instead of two specialisations: each took ~2.7 s to compile on the
                # first emd call
                shift = cmin if shifted else 0.0
                pii = pi[i] + (cmin - shift)
                thr, found = _scan_row(C[i, j:jend], pis[j:jend], shift, j, best + pii, i,
                                       cand_i, cand_j, n_cand)
            if found >= 0:
                best = thr - pii
                bi = i
                bj = found
            todo -= jend - j
            if jend == m:
                j = 0
                i += 1
                if i == n:
                    i = 0
            else:
                j = jend
        if bi >= 0:
            break
    return bi, bj, best, i * m + j



@njit(cache=True, inline="always")
def _finish_cost(acc, code, power):
    if code == 0:
        acc = np.sqrt(acc)
    if power != 1.0:
        acc = acc**power
    return acc


@njit(cache=True, fastmath=FASTMATH)
def _scan_row_points(x, i, yT, code, minkowski_p, power, cmin, pis, j0, j1, thr, y, acc,
                     cand_i, cand_j, n_cand):
    """:func:`_scan_row` with ``C_ij = d(x_i, y_j)**power`` computed on the fly.

    (Squared) euclidean costs are accumulated coordinate by coordinate into the scratch
    ``acc`` from the transposed targets ``yT`` (d, m): contiguous loops that vectorise. Other
    metrics call the shared ``pair_cost`` per arc.
    """
    length = j1 - j0
    found = -1
    ps = pis[j0:j1]  # slices keep every index provably >= 0 (see _scan_row)
    if code > 1:
        for q in range(length):
            r = (point_cost(x, i, y, j0 + q, code, minkowski_p, power) - cmin) + ps[q]
            if r < thr:
                thr = r
                found = j0 + q
                _record(cand_i, cand_j, n_cand, i, found)
        return thr, found
    sq = acc[:length]
    sq[:] = 0.0
    for k in range(x.shape[1]):
        xk = x[i, k]
        yk = yT[k, j0:j1]
        for q in range(length):
            t = xk - yk[q]
            sq[q] += t * t
    if code == 0 or power != 1.0:
        for q in range(length):
            sq[q] = _finish_cost(sq[q], code, power)
    return _scan_row(sq, ps, cmin, j0, thr, i, cand_i, cand_j, n_cand)


@njit(cache=True)
def _price_points(x, y, yT, code, minkowski_p, power, cmin, pi, n, m, start, block, tol,
                  acc, cand_i, cand_j, n_cand):
    """Block search like :func:`_price_dense`, costs evaluated on the fly."""
    total = n * m
    i = start // m
    j = start - i * m
    pis = pi[n : n + m]
    best = -tol
    bi = -1
    bj = -1
    scanned = 0
    while scanned < total:
        todo = min(block, total - scanned)
        scanned += todo
        while todo > 0:
            jend = min(m, j + todo)
            pii = pi[i]
            thr, found = _scan_row_points(x, i, yT, code, minkowski_p, power, cmin, pis, j,
                                          jend, best + pii, y, acc, cand_i, cand_j, n_cand)
            if found >= 0:
                best = thr - pii
                bi = i
                bj = found
            todo -= jend - j
            if jend == m:
                j = 0
                i += 1
                if i == n:
                    i = 0
            else:
                j = jend
        if bi >= 0:
            break
    return bi, bj, best, i * m + j


@njit(cache=True)
def _best_candidate_points(x, y, code, minkowski_p, power, cmin, pi, n, cand_i, cand_j,
                           n_cand, tol):
    best = -tol
    pick = -1
    for c in range(min(n_cand[0], cand_i.shape[0])):
        i = cand_i[c]
        if i < 0:
            continue
        j = cand_j[c]
        r = (point_cost(x, i, y, j, code, minkowski_p, power) - cmin) - pi[i] + pi[n + j]
        if r < best:
            best = r
            pick = c
    return pick, best


@njit(cache=True, inline="always")
def _best_candidate(C, cmin, pi, n, cand_i, cand_j, n_cand, tol):
    """Most negative reduced cost among the remembered candidate arcs (``-1`` if none is below
    ``-tol``)."""
    best = -tol
    pick = -1
    for c in range(min(n_cand[0], cand_i.shape[0])):
        i = cand_i[c]
        if i < 0:
            continue
        j = cand_j[c]
        r = (C[i, j] - cmin) - pi[i] + pi[n + j]
        if r < best:
            best = r
            pick = c
    return pick, best


@njit(cache=True)
def solve_dense(a, b, C, cmin, cmax, pi0, tol, block, max_iter, n_candidates=16,
                initial_pivots=False):
    """Network simplex on a dense cost matrix. Returns the tree and ``(status, iterations)``.

    ``cmin`` and ``cmax`` are ``min C`` and ``max C``, which every caller has already measured
    (the problem's validation pass, or the batch kernel's own): the kernel makes no pass of its
    own over ``C`` before pricing.

    With ``initial_pivots`` (the batch kernels) the artificial start is first improved by
    pivoting in, without pricing, each column's cheapest arc and then each row's cheapest arc
    when its reduced cost is negative (LEMON's initial-pivot heuristic, extended to rows;
    ~10% fewer pivots on 50..100-point problems). Any entering arc with a negative reduced
    cost keeps the tree strongly feasible, so the anti-cycling argument is unchanged.

    Pricing alternates major iterations (a block search, which also remembers the last
    ``n_candidates`` running-minimum arcs it met) and minor ones (re-price only those
    remembered arcs under the new potentials; AMO §11.5, candidate list rule), so most pivots
    cost a handful of reduced costs instead of a whole block.
    """
    n = a.shape[0]
    m = b.shape[0]
    parent, pdir, pflow, pi, thread, rev, depth = _init_tree(a, b, pi0)
    N = n + m + 1
    upath = np.empty(N, dtype=np.int64)
    vpath = np.empty(N, dtype=np.int64)
    cand_i = filled_int(n_candidates, -1)
    cand_j = np.empty(n_candidates, dtype=np.int64)
    n_cand = filled_int(1, 0)
    start = np.int64(0)  # not the literal 0: that would compile _price_dense a second time
    it = 0
    status = STATUS_OPTIMAL
    shifted = abs(cmin) > cmax - cmin
    # One loop and one (inlined) _pivot call site for the three phases: the columns' cheapest
    # arcs, the rows' cheapest arcs, then priced pivots. Each call site of an inlined _pivot is
    # compiled anew; one site instead of three cut this kernel's compile time by about half.
    phase = PHASE_COLUMNS if initial_pivots else PHASE_PRICED
    next_col = 0
    next_row = 0
    while True:
        if phase == PHASE_COLUMNS:
            if next_col == m:
                phase = PHASE_ROWS
                continue
            bj = next_col
            next_col += 1
            if b[bj] <= 0:
                continue
            bi = -1
            best = np.inf
            for i in range(n):
                if C[i, bj] < best:
                    best = C[i, bj]
                    bi = i
            rc = (C[bi, bj] - cmin) - pi[bi] + pi[n + bj]
            if not (rc < -tol and it < max_iter):
                continue
        elif phase == PHASE_ROWS:
            if next_row == n:
                phase = PHASE_PRICED
                continue
            bi = next_row
            next_row += 1
            if a[bi] <= 0:
                continue
            bj = -1
            best = np.inf
            for j in range(m):
                if C[bi, j] < best:
                    best = C[bi, j]
                    bj = j
            rc = (C[bi, bj] - cmin) - pi[bi] + pi[n + bj]
            if not (rc < -tol and it < max_iter):
                continue
        else:
            pick, rc = _best_candidate(C, cmin, pi, n, cand_i, cand_j, n_cand, tol)
            if pick >= 0:
                bi = cand_i[pick]
                bj = cand_j[pick]
                cand_i[pick] = -1
            else:
                n_cand[0] = 0
                cand_i[:] = -1
                bi, bj, rc, start = _price_dense(C, cmin, pi, n, m, start, block, tol, shifted,
                                                 cand_i, cand_j, n_cand)
                if bi < 0:
                    break
            if it >= max_iter:
                status = STATUS_MAX_ITER
                break
        it += 1
        if not _pivot(bi, n + bj, rc, parent, pdir, pflow, pi, thread, rev, depth,
                      upath, vpath):
            status = STATUS_UNBOUNDED
            break
    return parent, pflow, pi, status, it


@njit(cache=True)
def solve_points(a, b, x, y, code, minkowski_p, power, cmin, pi0, tol, block, max_iter,
                  n_candidates=16):
    """Network simplex with costs ``d(x_i, y_j)**power`` evaluated on the fly (same pricing
    scheme as :func:`solve_dense`)."""
    n = a.shape[0]
    m = b.shape[0]
    parent, pdir, pflow, pi, thread, rev, depth = _init_tree(a, b, pi0)
    N = n + m + 1
    upath = np.empty(N, dtype=np.int64)
    vpath = np.empty(N, dtype=np.int64)
    cand_i = filled_int(n_candidates, -1)
    cand_j = np.empty(n_candidates, dtype=np.int64)
    n_cand = filled_int(1, 0)
    yT = np.ascontiguousarray(y.T)
    acc = np.empty(m)
    start = np.int64(0)  # not the literal 0: that would compile _price_points a second time
    it = 0
    status = STATUS_OPTIMAL
    while True:
        pick, rc = _best_candidate_points(x, y, code, minkowski_p, power, cmin, pi, n, cand_i,
                                          cand_j, n_cand, tol)
        if pick >= 0:
            bi = cand_i[pick]
            bj = cand_j[pick]
            cand_i[pick] = -1
        else:
            n_cand[0] = 0
            cand_i[:] = -1
            bi, bj, rc, start = _price_points(x, y, yT, code, minkowski_p, power, cmin, pi, n,
                                              m, start, block, tol, acc, cand_i, cand_j, n_cand)
            if bi < 0:
                break
        if it >= max_iter:
            status = STATUS_MAX_ITER
            break
        it += 1
        if not _pivot(bi, n + bj, rc, parent, pdir, pflow, pi, thread, rev, depth,
                      upath, vpath):
            status = STATUS_UNBOUNDED
            break
    return parent, pflow, pi, status, it


@njit(cache=True)
def tree_plan(parent, pflow, n, m):
    """The real tree arcs with positive flow as COO triplets ``(rows, cols, flows)``."""
    root = n + m
    cnt = 0
    for v in range(n + m):
        if parent[v] != root and pflow[v] > 0:
            cnt += 1
    rows = np.empty(cnt, dtype=np.int64)
    cols = np.empty(cnt, dtype=np.int64)
    vals = np.empty(cnt)
    k = 0
    for v in range(n + m):
        p = parent[v]
        if p != root and pflow[v] > 0:
            if v < n:
                rows[k] = v
                cols[k] = p - n
            else:
                rows[k] = p
                cols[k] = v - n
            vals[k] = pflow[v]
            k += 1
    return rows, cols, vals


@njit(cache=True, parallel=True)
def points_cost_range(x, y, code, minkowski_p, power):
    n = x.shape[0]
    m = y.shape[0]
    lo = np.empty(n)
    hi = np.empty(n)
    for i in prange(n):
        a = np.inf
        z = -np.inf
        for j in range(m):
            c = point_cost(x, i, y, j, code, minkowski_p, power)
            a = min(a, c)
            z = max(z, c)
        lo[i] = a
        hi[i] = z
    return lo.min(), hi.max()


@njit(cache=True)
def _solve_one_raw(a, b, C, cmin, cmax, price_rtol, block, max_iter, artificial_flow_rtol):
    """Cold-start solve of one small problem for the batch: the tree's plan and the
    potentials (``g`` the c-transform of ``f``), no certificate (the finisher certifies).
    ``cmin``, ``cmax`` are ``min C``, ``max C`` as :func:`divkit.ot.problem.min_max_finite`
    measures them (the caller's one pass over ``C``).

    The artificial cost is the same robust choice as the single-problem route:
    ``M = min(4 median(C - min C), max C - min C)``, then the safe ``M = max C - min C`` if an
    artificial arc keeps flow (so a few huge entries cannot swamp the pricing tolerance).
    """
    n, m = C.shape
    crange = cmax - cmin
    if crange > 0:
        flat = C.ravel()
        stride = max(1, flat.shape[0] // 255)
        q = median_in_place(flat[::stride].copy()) - cmin
        big = min(4.0 * q, crange) if q > 0 else crange
    else:
        big = abs(cmin) if cmin != 0 else 1.0
    mass = a.sum()
    total_it = 0
    budget = max_iter
    while True:
        pi0 = np.empty(n + m + 1)
        for i in range(n):
            pi0[i] = big if a[i] > 0 else -big
        for j in range(m):
            pi0[n + j] = -big
        pi0[n + m] = 0.0
        parent, pflow, pi, status, it = solve_dense(a, b, C, cmin, cmax, pi0, price_rtol * big,
                                                     block, budget, 16, True)
        total_it += it
        budget -= it
        left = False
        if status == STATUS_OPTIMAL and big < crange:
            for v in range(n + m):
                if parent[v] == n + m and pflow[v] > artificial_flow_rtol * mass:
                    left = True
        if not left:
            break
        big = crange
    rows, cols, vals = tree_plan(parent, pflow, n, m)
    f = np.empty(n)
    for i in range(n):
        f[i] = pi[i] + cmin
    f = gauge_potentials(f, a)
    g = filled_float(m, np.inf)
    for i in range(n):
        for j in range(m):
            t = C[i, j] - f[i]
            g[j] = min(g[j], t)
    return rows, cols, vals, f, g, status, total_it


@njit(cache=True)
def gauge_potentials(f, a):
    """``f`` minus its ``a``-weighted mean: the solver's source potentials without the offset
    that the artificial root's arcs (cost ``M``) leave in them.

    Potentials are defined up to a constant. The c-transform ``g = f^c`` is computed after this
    shift, so its rounding is relative to the costs' own scale instead of ``M``: otherwise the
    finisher's centring turns that rounding into dual violations of up to ~150 eps relative
    to ``|C_ij| + |f_i| + |g_j|`` (measured on random 1000-point clouds; after the shift, at
    most 0.5 eps), and the certificate's dual pass must re-scan every row holding one."""
    total = 0.0
    weighted = 0.0
    for i in range(f.shape[0]):
        total += a[i]
        weighted += a[i] * f[i]
    shift = weighted / total if total > 0 else 0.0
    out = np.empty(f.shape[0])
    for i in range(f.shape[0]):
        out[i] = f[i] - shift
    return out


#: pricing block of the batch kernel: ``BATCH_BLOCK_FACTOR * sqrt(n m)`` arcs (at least
#: ``BATCH_MIN_BLOCK``); measured on 50..500-point problems, 3 takes ~10% fewer pivots than 1
#: at the same time per pivot
BATCH_BLOCK_FACTOR = 3.0
BATCH_MIN_BLOCK = 64

#: per-problem flags of the batch kernels: the problem must go through the full finisher
#: (zero-mass atoms, a solver stop without optimum, or costs that are not finite)
FLAG_NONE = 0
FLAG_ZERO_MASS = 1
FLAG_NOT_OPTIMAL = 2
FLAG_NONFINITE_COST = 3


def batch_block(n: int, m: int) -> int:
    """Pricing block size of the batch kernels for ``n x m`` problems."""
    return max(BATCH_MIN_BLOCK, int(np.ceil(BATCH_BLOCK_FACTOR * np.sqrt(n * m))))


@njit(cache=True, inline="always")
def _solve_certify_one(p, a, b, C, cmin, cmax, mass, s_rows, s_cols, price_rtol, block,
                       max_iter, artificial_flow_rtol, R, K, V, counts, F, G, Fc, Gc, status,
                       iters, sums, duals, floors, flags):
    """Solve problem ``p`` of a batch and, when it can take the finisher's common path (no
    zero-mass atom, optimal stop, finite costs), compute its certificate numbers with
    :func:`divkit.ot.result.certify_dense`: ``Fc[p]``, ``Gc[p]`` receive the centred
    potentials, as :func:`finish` leaves them (``F[p]``, ``G[p]`` keep the raw ones for a
    problem that must go through the full finisher). Otherwise ``flags[p]`` says why."""
    n = a.shape[0]
    m = b.shape[0]
    rows, cols, vals, f, g, st, it = _solve_one_raw(a, b, C, cmin, cmax, price_rtol, block,
                                                    max_iter, artificial_flow_rtol)
    # Outputs are written entry by entry: a slice such as R[p, :c] is a view whose creation
    # increments the shared array's reference count atomically, and with every thread doing
    # that on the same few arrays the counter's cache line bounced between cores (two threads
    # spent 14 % more CPU time than one on a batch of 50-point problems).
    c = rows.shape[0]
    counts[p] = c
    for t in range(c):
        R[p, t] = rows[t]
        K[p, t] = cols[t]
        V[p, t] = vals[t]
    status[p] = st
    iters[p] = it
    for i in range(n):
        F[p, i] = f[i]
    for j in range(m):
        G[p, j] = g[j]
    flag = FLAG_NONE
    for i in range(n):
        if a[i] == 0.0:
            flag = FLAG_ZERO_MASS
    for j in range(m):
        if b[j] == 0.0:
            flag = FLAG_ZERO_MASS
    if st != STATUS_OPTIMAL:
        flag = FLAG_NOT_OPTIMAL
    flags[p] = flag
    if flag != FLAG_NONE:
        return
    if s_rows.shape[0] == n * m:
        # sample_pairs lists every pair in row-major order when the problem is that small:
        # the sample is C itself (low_cost only reads it)
        floor = mass * low_cost(C.ravel())
    else:
        sample = np.empty(s_rows.shape[0])
        for t in range(s_rows.shape[0]):
            sample[t] = C[s_rows[t], s_cols[t]]
        floor = mass * low_cost(sample)
    floors[p] = floor
    # tree_plan keeps positive flows only, so finish()'s "flows != 0" filter keeps them all;
    # certify_dense centres f and g in place (F[p], G[p] keep the raw ones)
    plan, dual = certify_dense(a, b, C, rows, cols, vals, f, g, mass, floor)
    for i in range(n):
        Fc[p, i] = f[i]
    for j in range(m):
        Gc[p, j] = g[j]
    for t in range(plan.shape[0]):
        sums[p, t] = plan[t]
    for t in range(dual.shape[0]):
        duals[p, t] = dual[t]


@njit(cache=True, parallel=True)
def solve_certify_batch(A, B, Cs, shared_cost, masses, s_rows, s_cols, price_rtol, block,
                        max_iter, artificial_flow_rtol, n_workers):
    """Solve and certify ``len(A)`` independent dense problems in parallel: ``n_workers``
    loops (``numba.get_num_threads()``) take the next problem from a shared counter
    (:func:`divkit._numba.next_task`) until none is left, and each problem writes only its
    own slots, so the thread count does not change any bit. Returns the raw tree plans
    padded to ``n + m``, the potentials, status, pivots, the certificate numbers and flags
    of :func:`_solve_certify_one`. ``block`` is :func:`batch_block`'s pricing block."""
    n_prob = A.shape[0]
    n = A.shape[1]
    m = B.shape[1]
    R = np.zeros((n_prob, n + m), dtype=np.int64)
    K = np.zeros((n_prob, n + m), dtype=np.int64)
    V = np.zeros((n_prob, n + m))
    counts = np.zeros(n_prob, dtype=np.int64)
    status = np.empty(n_prob, dtype=np.int64)
    iters = np.empty(n_prob, dtype=np.int64)
    F = np.empty((n_prob, n))
    G = np.empty((n_prob, m))
    Fc = np.zeros((n_prob, n))
    Gc = np.zeros((n_prob, m))
    sums = np.zeros((n_prob, 8))
    duals = np.zeros((n_prob, 4))
    floors = np.zeros(n_prob)
    flags = np.zeros(n_prob, dtype=np.int64)
    # emd_batch validated the costs (all finite); a shared one is measured once
    shared_min = shared_max = 0.0
    if shared_cost:
        shared_min, shared_max, _bad = min_max_finite(Cs[0])
    counter = np.zeros(1, dtype=np.int64)
    for _worker in prange(n_workers):
        while True:
            k = next_task(counter, 1)
            if k >= n_prob:
                break
            C = Cs[0] if shared_cost else Cs[k]
            if shared_cost:
                cmin, cmax = shared_min, shared_max
            else:
                cmin, cmax, _bad_k = min_max_finite(C)
            _solve_certify_one(k, A[k], B[k], C, cmin, cmax, masses[k], s_rows, s_cols,
                               price_rtol, block, max_iter, artificial_flow_rtol, R, K, V,
                               counts, F, G, Fc, Gc, status, iters, sums, duals, floors, flags)
    return R, K, V, counts, F, G, Fc, Gc, status, iters, sums, duals, floors, flags


@njit(cache=True)
def points_cost_matrix(x, y, code, minkowski_p, power):
    """``C_ij = d(x_i, y_j)**power`` with :func:`divkit.ot.problem.point_cost`'s values (one
    thread). The (squared) euclidean metrics accumulate ``(x_ik - y_jk)^2`` over ``k`` in the
    same order as ``pair_cost``, a whole row of ``j`` at a time (so the loop vectorises), which
    gives the same bits."""
    n = x.shape[0]
    m = y.shape[0]
    d = x.shape[1]
    C = np.empty((n, m))
    if code > 1:
        for i in range(n):
            for j in range(m):
                C[i, j] = point_cost(x, i, y, j, code, minkowski_p, power)
        return C
    yT = np.ascontiguousarray(y.T)
    if d == 0:
        C[:] = 0.0
        return C
    for i in range(n):
        row = C[i]
        xk = x[i, 0]
        yk = yT[0]
        for j in range(m):  # 0 + t * t is t * t: same bits as accumulating from zero
            t = xk - yk[j]
            row[j] = t * t
        for k in range(1, d):
            xk = x[i, k]
            yk = yT[k]
            for j in range(m):
                t = xk - yk[j]
                row[j] += t * t
        if code == 0:
            for j in range(m):
                row[j] = np.sqrt(row[j])
        if power != 1.0:
            for j in range(m):
                row[j] = row[j] ** power
    return C


@njit(cache=True, parallel=True)
def solve_certify_point_pairs(X, Y, I, J, A, B, masses, code, minkowski_p, power, s_rows,
                              s_cols, price_rtol, block, max_iter, artificial_flow_rtol,
                              n_workers):
    """:func:`solve_certify_batch` for the pairs ``(X[I[k]], Y[J[k]])`` of equal-size point
    clouds: each problem's cost matrix is built by :func:`points_cost_matrix` inside the
    parallel loop (no ``(k, n, m)`` batch in memory) and dropped after its certificate."""
    n_prob = I.shape[0]
    n = A.shape[1]
    m = B.shape[1]
    R = np.zeros((n_prob, n + m), dtype=np.int64)
    K = np.zeros((n_prob, n + m), dtype=np.int64)
    V = np.zeros((n_prob, n + m))
    counts = np.zeros(n_prob, dtype=np.int64)
    status = np.empty(n_prob, dtype=np.int64)
    iters = np.empty(n_prob, dtype=np.int64)
    F = np.empty((n_prob, n))
    G = np.empty((n_prob, m))
    Fc = np.zeros((n_prob, n))
    Gc = np.zeros((n_prob, m))
    sums = np.zeros((n_prob, 8))
    duals = np.zeros((n_prob, 4))
    floors = np.zeros(n_prob)
    flags = np.zeros(n_prob, dtype=np.int64)
    counter = np.zeros(1, dtype=np.int64)
    for _worker in prange(n_workers):  # dynamic scheduling, as in solve_certify_batch
        while True:
            k = next_task(counter, 1)
            if k >= n_prob:
                break
            C = points_cost_matrix(X[I[k]], Y[J[k]], code, minkowski_p, power)
            cmin, cmax, bad = min_max_finite(C)
            if bad != 0:
                flags[k] = FLAG_NONFINITE_COST
                status[k] = STATUS_UNBOUNDED
                iters[k] = 0
                continue
            _solve_certify_one(k, A[k], B[k], C, cmin, cmax, masses[k], s_rows, s_cols,
                               price_rtol, block, max_iter, artificial_flow_rtol, R, K, V,
                               counts, F, G, Fc, Gc, status, iters, sums, duals, floors, flags)
    return R, K, V, counts, F, G, Fc, Gc, status, iters, sums, duals, floors, flags
