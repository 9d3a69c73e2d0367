"""SPSTFM parameters (Huang & Song 2012, IEEE TGRS 50(10):3707-3716).

Defaults are the paper's as recorded by imagefusion's ``SpstfmOptions`` (patch 7, overlap 2,
256 atoms, 2000 training patches, delta = 0.2, 10-20 training iterations). The sparse codes come
from orthogonal matching pursuit with at most ``sparsity`` = 3 atoms per patch (the OMP setting
of the public Python re-implementation; imagefusion solves an l1 problem with GPSR instead).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InvalidParameterError


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


@dataclass(frozen=True)
class SpstfmParams:
    """Parameters of `stfusion.methods.classical.spstfm`.

    - ``patch_size``: side of the square patches in fine pixels (7 → 49 values per patch).
    - ``patch_overlap``: pixels shared by neighbouring patches (grid step = size - overlap);
      at most half the patch size.
    - ``dict_size``: atoms per dictionary (one coupled fine/coarse pair per band).
    - ``training_samples``: patches drawn at random (seeded) for training.
    - ``sparsity``: at most this many atoms per sparse code (OMP).
    - ``min_train_iter``, ``max_train_iter``: K-SVD iterations; after the minimum, training stops
      when the training error no longer decreases.
    - ``weights_diff_tol``: delta; when the normalised coarse changes v1, v3 of a patch differ
      by more, the side with less change gets weight 1 and the other 0.
    - ``seed``: seeds the choice of training patches and the initial dictionaries.
    """

    patch_size: int = 7
    patch_overlap: int = 2
    dict_size: int = 256
    training_samples: int = 2000
    sparsity: int = 3
    min_train_iter: int = 10
    max_train_iter: int = 20
    weights_diff_tol: float = 0.2
    seed: int = 0

    def __post_init__(self) -> None:
        def positive(name: str, value: object, hint: str) -> None:
            if not _is_int(value) or value < 1:  # type: ignore[operator]
                raise InvalidParameterError(f"spstfm: {name} must be a positive integer, got {value!r} ({hint})")

        if not _is_int(self.patch_size) or self.patch_size < 2:
            raise InvalidParameterError(
                f"spstfm: patch_size must be an integer >= 2 fine pixels, got {self.patch_size!r} (default 7)"
            )
        if not _is_int(self.patch_overlap) or not 0 <= self.patch_overlap <= self.patch_size // 2:
            raise InvalidParameterError(
                f"spstfm: patch_overlap must be an integer from 0 to patch_size // 2 = {self.patch_size // 2}, "
                f"got {self.patch_overlap!r} (default 2)"
            )
        positive("dict_size", self.dict_size, "default 256")
        positive("training_samples", self.training_samples, "default 2000")
        positive("sparsity", self.sparsity, "default 3")
        if self.sparsity > min(self.dict_size, self.patch_size**2):
            raise InvalidParameterError(
                f"spstfm: sparsity ({self.sparsity}) cannot exceed dict_size ({self.dict_size}) or the patch "
                f"dimension patch_size² ({self.patch_size ** 2}); the default is 3"
            )
        if not _is_int(self.min_train_iter) or not _is_int(self.max_train_iter) or \
                not 0 <= self.min_train_iter <= self.max_train_iter:
            raise InvalidParameterError(
                f"spstfm: need integers 0 <= min_train_iter <= max_train_iter, got {self.min_train_iter!r} and "
                f"{self.max_train_iter!r} (defaults 10 and 20)"
            )
        if not isinstance(self.weights_diff_tol, (int, float)) or isinstance(self.weights_diff_tol, bool) or \
                not self.weights_diff_tol >= 0:
            raise InvalidParameterError(
                f"spstfm: weights_diff_tol must be a number >= 0, got {self.weights_diff_tol!r} (default 0.2)"
            )
        if not _is_int(self.seed) or self.seed < 0:
            raise InvalidParameterError(f"spstfm: seed must be an integer >= 0, got {self.seed!r}")


def spstfm_halo(params: SpstfmParams, resolution: float | None) -> int:
    """patch_size - 1: every patch that covers a block's interior lies inside the block with this halo."""
    return int(params.patch_size) - 1
