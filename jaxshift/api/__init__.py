"""The public API: validates every argument once, resolves names (kernels, ``"auto"``), picks the
back end and calls the compiled solvers. :mod:`jaxshift` re-exports it."""
