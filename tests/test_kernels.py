import jax.numpy as jnp
import numpy as np
import pytest
from references import NUMPY_DENSITIES
from scipy import integrate

from jaxshift.kernels import KERNEL_NAMES, get_kernel


@pytest.mark.parametrize("name", KERNEL_NAMES)
@pytest.mark.parametrize("dim", [1, 2, 3])
def test_normaliser_makes_a_density(name, dim):
    kernel = get_kernel(name)
    # ∫ k(|u|²) du over R^d = surface area of the unit sphere · ∫ k(t²) t^(d-1) dt
    import math

    area = 2 * math.pi ** (dim / 2) / math.gamma(dim / 2)
    upper = 1.0 if kernel.compact else 40.0
    radial, _ = integrate.quad(lambda t: float(kernel.density(jnp.asarray(t * t))) * t ** (dim - 1), 0, upper)
    assert np.isclose(np.log(area * radial), kernel.log_normaliser(dim), rtol=1e-7)


@pytest.mark.parametrize("name", ["gaussian", "epanechnikov", "biweight"])
def test_shadow_is_proportional_to_minus_derivative(name):
    kernel = get_kernel(name)
    r = np.linspace(0.05, 0.95, 19)
    eps = 1e-6
    derivative = (NUMPY_DENSITIES[name](r + eps) - NUMPY_DENSITIES[name](r - eps)) / (2 * eps)
    ratio = -derivative / np.asarray(kernel.shadow(jnp.asarray(r)))
    assert np.all(ratio > 0)
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-6)


def test_flat_shadow_includes_the_boundary():
    r = jnp.asarray([0.0, 1.0, np.nextafter(1.0, 2.0), 4.0])
    np.testing.assert_array_equal(get_kernel("flat").shadow(r), [1.0, 1.0, 0.0, 0.0])


def test_unknown_kernel_lists_the_valid_ones():
    with pytest.raises(ValueError, match="kernel: unknown kernel 'cosine'; expected one of gaussian, flat"):
        get_kernel("cosine")
