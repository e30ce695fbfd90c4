"""Bracketed root finders (private module).

``brent`` is a straight implementation of Brent's method (inverse quadratic interpolation / secant with
bisection safeguard, as in R. P. Brent, *Algorithms for Minimization without Derivatives*, 1973, ch. 4).
It needs a bracket ``[a, b]`` with ``f(a)`` and ``f(b)`` of opposite sign (or one of them zero) and always
converges; for the smooth functions used here (angles against time) it needs 5–10 evaluations to reach
sub-second precision from a bracket of a few hours.

``safe_newton`` is Newton's method with a bisection safeguard, for functions whose derivative is cheap
(the Sun's altitude, whose derivative follows from the hour angle computed in the same call).
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["RootNotBracketedError", "brent", "safe_newton"]


class RootNotBracketedError(ValueError):
    """Raised when ``f(a)`` and ``f(b)`` have the same strict sign."""


def brent(
    f: Callable[[float], float],
    a: float,
    b: float,
    xtol: float,
    fa: float | None = None,
    fb: float | None = None,
    max_iter: int = 100,
) -> float:
    """Return a root of ``f`` in ``[a, b]`` to within ``xtol`` (absolute).

    ``fa``/``fb`` may be passed when already known, to save evaluations. Deterministic: the same bracket
    and function always give the same result.
    """
    if fa is None:
        fa = f(a)
    if fb is None:
        fb = f(b)
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    if (fa > 0.0) == (fb > 0.0):
        raise RootNotBracketedError(f"root not bracketed: f({a})={fa}, f({b})={fb}")
    c, fc = a, fa
    d = e = b - a
    for _ in range(max_iter):
        if (fb > 0.0) == (fc > 0.0):
            c, fc = a, fa
            d = e = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol1 = 2.0 * 2.220446049250313e-16 * abs(b) + 0.5 * xtol
        xm = 0.5 * (c - b)
        if abs(xm) <= tol1 or fb == 0.0:
            return b
        if abs(e) >= tol1 and abs(fa) > abs(fb):
            s = fb / fa
            if a == c:
                p = 2.0 * xm * s
                q = 1.0 - s
            else:
                q = fa / fc
                r = fb / fc
                p = s * (2.0 * xm * q * (q - r) - (b - a) * (r - 1.0))
                q = (q - 1.0) * (r - 1.0) * (s - 1.0)
            if p > 0.0:
                q = -q
            p = abs(p)
            if 2.0 * p < min(3.0 * xm * q - abs(tol1 * q), abs(e * q)):
                e = d
                d = p / q
            else:
                d = xm
                e = d
        else:
            d = xm
            e = d
        a, fa = b, fb
        if abs(d) > tol1:
            b += d
        else:
            b += tol1 if xm > 0.0 else -tol1
        fb = f(b)
    return b


def safe_newton(
    f: Callable[[float], tuple[float, float]],
    a: float,
    b: float,
    fa: float,
    fb: float,
    xtol: float,
    max_iter: int = 60,
) -> float:
    """Root of ``f`` in the bracket ``[a, b]`` by Newton steps safeguarded by bisection.

    ``f(x)`` returns ``(value, derivative)``. ``fa`` and ``fb`` must have opposite signs (or be zero).
    """
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    if (fa > 0.0) == (fb > 0.0):
        raise RootNotBracketedError(f"root not bracketed: f({a})={fa}, f({b})={fb}")
    # Orient so that f(lo) < 0 < f(hi).
    lo, hi = (a, b) if fa < 0.0 else (b, a)
    # Start from the secant estimate, which is much better than the midpoint for near-linear functions.
    x = a - fa * (b - a) / (fb - fa)
    dx_old = abs(b - a)
    dx = dx_old
    fx, dfx = f(x)
    for _ in range(max_iter):
        if fx == 0.0:
            return x
        if fx < 0.0:
            lo = x
        else:
            hi = x
        newton_ok = dfx != 0.0
        if newton_ok:
            x_new = x - fx / dfx
            newton_ok = min(lo, hi) < x_new < max(lo, hi) and abs(2.0 * fx) <= abs(dx_old * dfx)
        dx_old = dx
        if newton_ok:
            dx = x_new - x
            x = x_new
        else:
            dx = 0.5 * (hi - lo)
            x = lo + dx
        if abs(dx) < xtol:
            return x
        fx, dfx = f(x)
    return x
