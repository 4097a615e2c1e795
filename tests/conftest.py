import jax
import numpy as np
import pytest

# float64 references need x64; float32 behaviour is tested by passing float32 data explicitly.
jax.config.update("jax_enable_x64", True)


@pytest.fixture
def tutorial_data():
    """The tutorial's example: two 100-point N(0, I) blobs at (3, 3) and (8, 8)."""
    state = np.random.get_state()
    np.random.seed(42)
    a = np.random.normal(loc=[3, 3], scale=1, size=(100, 2))
    b = np.random.normal(loc=[8, 8], scale=1, size=(100, 2))
    np.random.set_state(state)
    return np.vstack((a, b))
