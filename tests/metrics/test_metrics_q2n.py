"""Q2ⁿ and the Cayley–Dickson product it rests on."""

from __future__ import annotations

import numpy as np
import pytest

from stfusion.metrics import cayley_dickson_product, q2n
from stfusion.metrics.hypercomplex import conjugate

RNG = np.random.default_rng(7)


def test_product_of_two_components_is_complex_multiplication():
    x, y = RNG.normal(size=(5, 2)), RNG.normal(size=(5, 2))
    z = (x[:, 0] + 1j * x[:, 1]) * (y[:, 0] + 1j * y[:, 1])
    np.testing.assert_allclose(cayley_dickson_product(x, y), np.stack([z.real, z.imag], axis=1))


@pytest.mark.parametrize("n", [4, 8])
def test_norm_is_multiplicative(n):
    x, y = RNG.normal(size=(20, n)), RNG.normal(size=(20, n))
    product = cayley_dickson_product(x, y)
    np.testing.assert_allclose(np.linalg.norm(product, axis=1), np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1))


@pytest.mark.parametrize("n", [4, 8])
def test_number_times_its_conjugate_is_its_squared_norm(n):
    x = RNG.normal(size=(6, n))
    product = cayley_dickson_product(x, conjugate(x))
    np.testing.assert_allclose(product[:, 0], np.sum(x**2, axis=1))
    np.testing.assert_allclose(product[:, 1:], 0, atol=1e-12)


def test_quaternion_units_follow_the_toolbox_convention():
    i, j, k = np.eye(4)[1], np.eye(4)[2], np.eye(4)[3]
    np.testing.assert_allclose(cayley_dickson_product(i, j), -k)
    np.testing.assert_allclose(cayley_dickson_product(i, i), -np.eye(4)[0])


def pair(bands: int, rows: int, cols: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = rng.uniform(0.05, 0.5, (bands, rows, cols))
    return truth, truth + rng.normal(0, 0.03, truth.shape)


@pytest.mark.parametrize("bands", [1, 3, 4, 5])
def test_identity_gives_one(bands):
    truth, _ = pair(bands, 40, 50)
    assert q2n(truth, truth) == pytest.approx(1.0, abs=1e-12)


def test_constant_identical_images_give_one():
    truth = np.full((4, 32, 32), 0.2)
    assert q2n(truth, truth.copy()) == pytest.approx(1.0)


def test_value_in_unit_interval_and_lower_for_noisier_prediction():
    truth, pred = pair(4, 64, 64)
    noisier = truth + 3 * (pred - truth)
    assert 0 < q2n(truth, noisier) < q2n(truth, pred) < 1


def test_blocks_are_averaged():
    truth, pred = pair(4, 64, 64, seed=1)
    blocks = [q2n(truth[:, r : r + 32, c : c + 32], pred[:, r : r + 32, c : c + 32]) for r in (0, 32) for c in (0, 32)]
    assert q2n(truth, pred) == pytest.approx(np.mean(blocks), abs=1e-12)


def test_mirror_padding_tiles_the_image():
    truth, pred = pair(4, 40, 32, seed=2)
    padded_t = np.pad(truth, ((0, 0), (0, 24), (0, 0)), mode="symmetric")
    padded_p = np.pad(pred, ((0, 0), (0, 24), (0, 0)), mode="symmetric")
    assert q2n(truth, pred) == pytest.approx(q2n(padded_t, padded_p), abs=1e-12)


def test_three_bands_are_padded_with_a_zero_band():
    truth, pred = pair(3, 32, 32, seed=3)
    zero = np.zeros((1, 32, 32))
    assert q2n(truth, pred) == pytest.approx(q2n(np.concatenate([truth, zero]), np.concatenate([pred, zero])), abs=1e-12)


def test_mask_keeps_only_whole_valid_blocks():
    truth, pred = pair(4, 64, 64, seed=4)
    mask = np.ones((64, 64), dtype=bool)
    mask[3, 40] = False  # in block (0, 1)
    blocks = [q2n(truth[:, r : r + 32, c : c + 32], pred[:, r : r + 32, c : c + 32]) for r, c in [(0, 0), (32, 0), (32, 32)]]
    assert q2n(truth, pred, mask=mask) == pytest.approx(np.mean(blocks), abs=1e-12)


def test_block_size_is_a_parameter():
    truth, pred = pair(4, 32, 32, seed=5)
    blocks = [q2n(truth[:, r : r + 16, c : c + 16], pred[:, r : r + 16, c : c + 16], block=16) for r in (0, 16) for c in (0, 16)]
    assert q2n(truth, pred, block=16) == pytest.approx(np.mean(blocks), abs=1e-12)
