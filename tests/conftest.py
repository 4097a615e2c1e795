import jax
import pytest

from jaxshift.demo import tutorial_data as _tutorial_data

# float64 references need x64; float32 behaviour is tested by passing float32 data explicitly.
jax.config.update("jax_enable_x64", True)

# a script that test_sharding.py runs in a fresh process with 4 devices, not a module to import here
# (--doctest-modules would import it)
collect_ignore = ["sharded_check.py"]


@pytest.fixture
def tutorial_data():
    """The tutorial's example: two 100-point N(0, I) blobs at (3, 3) and (8, 8), seed 42."""
    return _tutorial_data()
