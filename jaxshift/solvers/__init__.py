"""The algorithms, pure and unvalidated, each an ``init`` / ``step -> (state, info)`` run on the one
loop driver (:mod:`~jaxshift.solvers.loop`): mean shift, blurring mean shift, grid mean shift, and
the merging of modes into clusters (:mod:`~jaxshift.solvers.clusters`)."""
