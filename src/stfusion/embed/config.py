"""Sizes of the TESSERA-style embedding model (Feng et al. 2025), from `tiny` (minutes on a CPU)
to the published v1 shape (one 512-wide, 4-layer transformer per sensor, ~22.85 M parameters
each, and a 16384-wide projector)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from stfusion.core.errors import InvalidParameterError, UnknownParameterError


@dataclass(frozen=True)
class EmbedConfig:
    """Model shape. ``sensors`` maps a sensor name to its band count (e.g. {"s2": 10, "s1": 2});
    each gets its own encoder: Linear-ReLU-Linear band embedding to ``d_model`` plus the sinusoidal
    day-of-year encoding, ``layers`` post-LN transformer layers (``heads``, ``ff``, ``dropout``),
    and GRU attention pooling. The pooled vectors are concatenated and mapped linearly to
    ``latent`` (the embedding); the projector has ``projector_layers`` linear layers of width
    ``projector`` (training only)."""

    sensors: tuple[tuple[str, int], ...] = (("s2", 10), ("s1", 2))
    d_model: int = 512
    heads: int = 4
    ff: int = 4096
    layers: int = 4
    dropout: float = 0.1
    latent: int = 128
    projector: int = 16384
    projector_layers: int = 6
    samples: int = 40

    def with_sensors(self, **bands: int) -> "EmbedConfig":
        """The same shape for the sensors present, e.g. ``with_sensors(ndvi=1)``."""
        if not bands or any(b < 1 for b in bands.values()):
            raise InvalidParameterError(f"give at least one sensor with >= 1 band, got {bands}")
        return replace(self, sensors=tuple(bands.items()))


SIZES = {
    "tiny": EmbedConfig(d_model=64, heads=4, ff=128, layers=2, dropout=0.0, projector=512, projector_layers=3,
                        samples=16),
    "small": EmbedConfig(d_model=128, heads=4, ff=512, layers=2, projector=2048, projector_layers=3, samples=40),
    "v1": EmbedConfig(),
}


def config(size: str) -> EmbedConfig:
    """The named size ("tiny", "small", "v1")."""
    if size not in SIZES:
        raise UnknownParameterError(f"unknown model size {size!r}; use one of: {', '.join(SIZES)}")
    return SIZES[size]
