"""Float64 NumPy references for the tests."""

import numpy as np


def reference_mean_shift(X, seeds, h, shadow, tol=1e-3, max_iter=300, weights=None):
    """Plain float64 NumPy mean shift: each seed moves to the g-weighted mean until its shift <= tol·h."""
    X = np.asarray(X, np.float64)
    w = np.ones(len(X)) if weights is None else np.asarray(weights, np.float64)
    modes = np.array(seeds, np.float64)
    for i in range(len(modes)):
        y = modes[i]
        for _ in range(max_iter):
            r = np.sum(((X - y) / h) ** 2, axis=1)
            g = w * shadow(r)
            new = g @ X / g.sum()
            shift = np.sqrt(np.sum(((new - y) / h) ** 2))
            y = new
            if shift <= tol:
                break
        modes[i] = y
    return modes


NUMPY_SHADOWS = {
    "gaussian": lambda r: np.exp(-0.5 * r),
    "flat": lambda r: (r <= 1).astype(float),
    "epanechnikov": lambda r: (r <= 1).astype(float),
    "biweight": lambda r: np.maximum(1 - r, 0.0),
}

NUMPY_DENSITIES = {
    "gaussian": lambda r: np.exp(-0.5 * r),
    "flat": lambda r: (r <= 1).astype(float),
    "epanechnikov": lambda r: np.maximum(1 - r, 0.0),
    "biweight": lambda r: np.maximum(1 - r, 0.0) ** 2,
}
