"""Density estimates and bandwidths: the KDE and its cross-validated likelihoods, rules of thumb,
selection by ``jax.grad`` and Optax, and the clustering bandwidth. Pure and unvalidated; the
checked entry points are :mod:`jaxshift.kde` and the bandwidth functions of :mod:`jaxshift`."""
