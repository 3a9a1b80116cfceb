"""Overlap kernels (numba): axis-aligned box IoU and convex polygon IoU over many frames.

Box IoU follows the GOT-10k toolkit exactly (``got10k.utils.metrics.rect_iou``): a box ``(x, y, w, h)``
covers ``[x, x + w] x [y, y + h]`` (no ``+1``), the union gets ``+ eps`` (float64 machine epsilon) and
the result is clipped to ``[0, 1]``. Polygon IoU intersects two convex quadrilaterals by
Sutherland-Hodgman clipping; polygons of zero area, or with non-finite corners, score 0.
"""
import numba
import numpy as np

EPS = np.finfo(np.float64).eps


@numba.njit(cache=True)
def _box_iou(a, b):
    for i in range(4):
        if not (np.isfinite(a[i]) and np.isfinite(b[i])):
            return 0.0  # got10k's NaN IoU fails every threshold, as 0 does
    x1 = max(a[0], b[0])
    y1 = max(a[1], b[1])
    x2 = min(a[0] + a[2], b[0] + b[2])
    y2 = min(a[1] + a[3], b[1] + b[3])
    inter = max(x2 - x1, 0.0) * max(y2 - y1, 0.0)
    iou = inter / (a[2] * a[3] + b[2] * b[3] - inter + EPS)
    return min(max(iou, 0.0), 1.0)


@numba.njit(cache=True)
def _box_iou_many(boxes1, boxes2, out):
    for i in range(boxes1.shape[0]):
        out[i] = _box_iou(boxes1[i], boxes2[i])


@numba.njit(cache=True)
def _signed_area(xs, ys, n):
    s = 0.0
    for i in range(n):
        j = (i + 1) % n
        s += xs[i] * ys[j] - xs[j] * ys[i]
    return 0.5 * s


@numba.njit(cache=True)
def _side(ax, ay, bx, by, px, py):
    """Positive where ``p`` is left of the directed edge ``a -> b``."""
    return (bx - ax) * (py - ay) - (by - ay) * (px - ax)


@numba.njit(cache=True)
def _clip_convex(sx, sy, n, cx, cy, m):
    """Sutherland-Hodgman: the part of polygon ``s`` inside the counter-clockwise convex polygon ``c``."""
    cap = n + 2 * m + 4
    px = np.empty(cap)
    py = np.empty(cap)
    px[:n] = sx[:n]
    py[:n] = sy[:n]
    qx = np.empty(cap)
    qy = np.empty(cap)
    for e in range(m):
        if n == 0:
            break
        ax, ay = cx[e], cy[e]
        bx, by = cx[(e + 1) % m], cy[(e + 1) % m]
        k = 0
        for i in range(n):
            ux, uy = px[i], py[i]
            vx, vy = px[(i + 1) % n], py[(i + 1) % n]
            su = _side(ax, ay, bx, by, ux, uy)
            sv = _side(ax, ay, bx, by, vx, vy)
            if su >= 0.0:
                qx[k] = ux
                qy[k] = uy
                k += 1
            if (su >= 0.0) != (sv >= 0.0):
                t = su / (su - sv)
                qx[k] = ux + t * (vx - ux)
                qy[k] = uy + t * (vy - uy)
                k += 1
        px, qx = qx, px
        py, qy = qy, py
        n = k
    return px, py, n


@numba.njit(cache=True)
def _ccw(p):
    """Corners of an 8-number polygon as counter-clockwise (in x-right, y-up orientation) arrays."""
    xs = np.empty(4)
    ys = np.empty(4)
    for i in range(4):
        xs[i] = p[2 * i]
        ys[i] = p[2 * i + 1]
    if _signed_area(xs, ys, 4) < 0.0:
        xs = xs[::-1].copy()
        ys = ys[::-1].copy()
    return xs, ys


@numba.njit(cache=True)
def _polygon_iou(p, q):
    for i in range(8):
        if not (np.isfinite(p[i]) and np.isfinite(q[i])):
            return 0.0
    px, py = _ccw(p)
    qx, qy = _ccw(q)
    area_p = _signed_area(px, py, 4)
    area_q = _signed_area(qx, qy, 4)
    if area_p <= 0.0 or area_q <= 0.0:
        return 0.0
    ix, iy, k = _clip_convex(px, py, 4, qx, qy, 4)
    inter = _signed_area(ix, iy, k) if k >= 3 else 0.0
    iou = inter / (area_p + area_q - inter + EPS)
    return min(max(iou, 0.0), 1.0)


@numba.njit(cache=True)
def _polygon_iou_many(polys1, polys2, out):
    for i in range(polys1.shape[0]):
        out[i] = _polygon_iou(polys1[i], polys2[i])


def _pairs(a, b, width, what):
    a = np.ascontiguousarray(np.asarray(a, dtype=np.float64).reshape(-1, width))
    b = np.ascontiguousarray(np.asarray(b, dtype=np.float64).reshape(-1, width))
    if a.shape != b.shape:
        raise ValueError(f"{what}: {a.shape[0]} rows against {b.shape[0]} rows")
    return a, b


def box_iou(boxes1, boxes2) -> np.ndarray:
    """IoU of ``N x 4`` boxes ``(x, y, w, h)`` pairwise by row, as the GOT-10k toolkit computes it."""
    a, b = _pairs(boxes1, boxes2, 4, "box_iou")
    out = np.empty(a.shape[0])
    _box_iou_many(a, b, out)
    return out


def polygon_iou(polygons1, polygons2) -> np.ndarray:
    """IoU of ``N x 8`` convex quadrilaterals ``x1, y1, ..., x4, y4`` pairwise by row (either winding)."""
    a, b = _pairs(polygons1, polygons2, 8, "polygon_iou")
    out = np.empty(a.shape[0])
    _polygon_iou_many(a, b, out)
    return out
