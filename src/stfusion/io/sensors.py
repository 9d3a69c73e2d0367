"""Fine or coarse: the sensor of a file from the code in its name (`sensor_role`) or of a STAC
item from its platform, constellation, instruments or collection (`metadata_role`)."""

from __future__ import annotations

import re
from collections.abc import Iterable

FINE_SENSORS = ("LC08", "LC09", "LE07", "LT05", "LC8", "LC9", "LE7", "LT5", "L5", "L7", "L8", "L9", "LANDSAT",
                "HLS.L30", "HLS.S30", "S2A", "S2B", "S2C")
"""Sensor codes that mark a fine image in a file name (Landsat product and scene IDs, HLS, Sentinel-2)."""
COARSE_SENSORS = ("MOD09", "MYD09", "MCD43", "MODIS", "S3A", "S3B")
"""Sensor codes that mark a coarse image (MODIS surface reflectance and BRDF products, Sentinel-3)."""

_PRODUCT_CODES = ("MOD09", "MYD09", "MCD43")
"""Codes followed by a product suffix in the same name part (``MOD09GA``, ``MCD43A4``)."""

_FINE_METADATA = re.compile(r"landsat|sentinel-?2|(^|[^a-z])hls|^(oli|oli-tirs|etm\+?|tm|msi)$")
_COARSE_METADATA = re.compile(r"modis|^(terra|aqua)$|sentinel-?3|^(olci|slstr|viirs)$")


def _has_code(parts: list[str], code: str) -> bool:
    """Whether a name part is ``code``, or starts with it followed by a digit (scene IDs such as
    ``LC81250382015104LGN00``) or, for the MODIS product codes, by any letter or digit."""
    if "." in code:  # HLS.L30: consecutive parts
        first, second = code.split(".")
        return any(a == first and b == second for a, b in zip(parts, parts[1:]))
    for part in parts:
        rest = part[len(code):] if part.startswith(code) else None
        if rest is not None and (not rest or rest[0].isdigit() or code in _PRODUCT_CODES):
            return True
    return False


def _decide(fine: bool, coarse: bool) -> str | None:
    return "fine" if fine and not coarse else "coarse" if coarse and not fine else None


def sensor_role(name: str) -> str | None:
    """``"fine"`` or ``"coarse"`` from the sensor code in a file name (`FINE_SENSORS`,
    `COARSE_SENSORS`; case-insensitive). A code counts as a whole name part between separators,
    or at its start before a digit (``L7`` in ``CIA_L7_2001...``, ``LE07_L2SP_...``, ``LE7...``
    scene IDs; not in ``L7x`` or ``XL7``); the MODIS codes also before a product suffix
    (``MOD09GA.A2001281...``). None when the name holds no code, or codes of both kinds."""
    parts = [p for p in re.split(r"[^A-Z0-9]+", name.upper()) if p]
    return _decide(any(_has_code(parts, c) for c in FINE_SENSORS), any(_has_code(parts, c) for c in COARSE_SENSORS))


def metadata_role(values: Iterable[str]) -> str | None:
    """``"fine"`` or ``"coarse"`` from STAC metadata values: platform (``landsat-8``, ``sentinel-2a``
    / ``terra``, ``aqua``, ``sentinel-3a``), constellation, instruments (``oli``, ``etm+``, ``tm``,
    ``msi`` / ``modis``, ``olci``, ``slstr``, ``viirs``) or collection id (``landsat-c2-l2``,
    ``hls2-s30`` / ``modis-09A1-061``, or a `sensor_role` code such as ``MOD09GA.061``).
    None when no value names a sensor, or values name both kinds."""
    fine = coarse = False
    for value in values:
        text = re.sub(r"[\s_]+", "-", value.strip().lower())
        role = sensor_role(value)
        fine = fine or bool(_FINE_METADATA.search(text)) or role == "fine"
        coarse = coarse or bool(_COARSE_METADATA.search(text)) or role == "coarse"
    return _decide(fine, coarse)
