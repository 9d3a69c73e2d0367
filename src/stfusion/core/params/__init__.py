"""Parameters of every registered method: frozen dataclasses whose defaults are the papers' defaults.

They live in `core` so the registry (and `stfusion methods`) can show them, and the halo a tiled
run needs, without importing any algorithm. One module per method family.
"""

from .baselines import DeltaParams, NoChangeParams

__all__ = ["DeltaParams", "NoChangeParams"]
