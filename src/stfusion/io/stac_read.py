"""Local STAC input: the dated fine and coarse images of a catalogue, collection or ItemCollection
(`stac_images`). Needs pystac (``pip install 'stfusion[stac]'``), imported when first used."""

from __future__ import annotations

import datetime as _dt
import json
import os
from fnmatch import fnmatchcase
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

from stfusion.core.errors import DateError, FileFormatError, require

from .folder import MASK_SUFFIX, RASTER_SUFFIXES, DatedRaster
from .sensors import metadata_role, sensor_role

_NOT_IMAGES = frozenset({"thumbnail", "overview", "visual", "metadata"})
"""Asset roles that are never the image of an item."""
_RASTER_TYPES = ("tiff", "jp2", "netcdf", "hdf")


def _items(source: Path) -> list[Any]:
    """Every item of a STAC file: a catalogue or collection (walked recursively), an ItemCollection or one item."""
    pystac = require("pystac", "stac")
    try:
        kind = json.loads(source.read_text()).get("type")
        if kind == "FeatureCollection":
            return list(pystac.ItemCollection.from_file(str(source)))
        stac = pystac.read_file(source)
        return [stac] if isinstance(stac, pystac.Item) else list(stac.get_items(recursive=True))
    except (OSError, ValueError, KeyError, TypeError, AttributeError, pystac.STACError, pystac.STACTypeError) as exc:
        why = " ".join(str(exc).split()) or type(exc).__name__
        raise FileFormatError(
            f"cannot read {source} as a STAC catalogue, collection or ItemCollection ({why}); "
            "give a valid local STAC file"
        ) from None


def _local(href: str, base: Path, where: str) -> Path:
    """The local file an asset's ``href`` names, relative hrefs resolved against ``base`` (the JSON holding it)."""
    url = urlparse(href)
    if url.scheme == "file":
        path = Path(url2pathname(url.path))
    elif len(url.scheme) > 1:  # http, s3, gs, ... (one letter is a Windows drive)
        raise FileFormatError(f"{where} is not a local file ({href}); download it and point the href at the copy")
    else:
        path = Path(href)
    path = path if path.is_absolute() else (base.parent / path).resolve()
    if not path.is_file():
        raise FileFormatError(f"{where}: file not found: {path}; fix the href")
    return path


def _is_raster(asset: Any) -> bool:
    media = (asset.media_type or "").lower()
    suffix = PurePath(urlparse(asset.href).path).suffix.lower()
    return suffix in RASTER_SUFFIXES or any(t in media for t in _RASTER_TYPES)


def _image_and_mask(item: Any, source: Path, mask_suffix: str) -> tuple[Path, Path | None]:
    """The one raster asset of ``item`` that is its image, and its ``<stem><mask_suffix>`` mask asset if any."""
    base = Path(item.get_self_href() or source)
    rasters = {k: a for k, a in item.assets.items() if _is_raster(a) and not _NOT_IMAGES & set(a.roles or ())}
    masks = [k for k, a in rasters.items() if PurePath(urlparse(a.href).path).stem.endswith(mask_suffix)]
    images = [k for k in rasters if k not in masks]
    if any("data" in (rasters[k].roles or ()) for k in images):
        images = [k for k in images if "data" in (rasters[k].roles or ())]
    if len(images) != 1:
        found = f"{len(images)} raster assets ({', '.join(images)})" if images else "no raster asset"
        raise FileFormatError(
            f"STAC item {item.id} in {source} has {found}; series needs one multi-band raster per item: "
            "stack the bands into one file (e.g. gdalbuildvrt -separate) and give the item one data asset"
        )
    image = _local(rasters[images[0]].href, base, f"asset {images[0]} of STAC item {item.id}")
    mask = _local(rasters[masks[0]].href, base, f"asset {masks[0]} of STAC item {item.id}") if masks else None
    return image, mask


def _date(item: Any, source: Path) -> _dt.date:
    when = item.datetime or item.common_metadata.start_datetime
    if when is None:
        raise DateError(
            f"STAC item {item.id} in {source} has no datetime or start_datetime; give it its acquisition date"
        )
    return when.date()


def _role(item: Any, image: Path) -> str | None:
    """The role from the item's platform, constellation, instruments or collection, else from its id or file name."""
    props = item.properties
    values = [props.get("platform"), props.get("constellation"), *(props.get("instruments") or ()), item.collection_id]
    return metadata_role(v for v in values if isinstance(v, str)) or sensor_role(item.id) or sensor_role(image.name)


def stac_images(
    source: str | os.PathLike[str], *, fine_pattern: str = "*", coarse_pattern: str = "*",
    mask_suffix: str = MASK_SUFFIX,
) -> tuple[list[DatedRaster], list[DatedRaster]]:
    """The fine and the coarse images of a local STAC file, each sorted by date.

    Each item is one image: its date is the item's ``datetime`` (or ``start_datetime``), its file
    the one raster asset that is not a thumbnail, overview or mask (the one with role ``data``
    when several), and its cloud mask the asset named ``<image stem><mask_suffix>``, if any.
    Items are fine or coarse by their platform, constellation, instruments or collection
    (`metadata_role`), else by the sensor code in their id or file name (`sensor_role`); unless
    ``fine_pattern`` or ``coarse_pattern`` (globs of the image file names) is given, which then
    decide alone. An item it cannot place, two of one kind and date, or no item of a kind is an error.
    """
    path = Path(source)
    if not path.is_file():
        raise FileFormatError(
            f"STAC file not found: {path}; give a local catalog.json, collection.json or ItemCollection"
        )
    by_pattern = (fine_pattern, coarse_pattern) != ("*", "*")
    found: dict[str, dict[_dt.date, DatedRaster]] = {"fine": {}, "coarse": {}}
    unplaced = []
    for item in _items(path):
        image, mask = _image_and_mask(item, path, mask_suffix)
        if by_pattern:
            roles = [r for r, p in (("fine", fine_pattern), ("coarse", coarse_pattern)) if fnmatchcase(image.name, p)]
            if len(roles) == 2:
                raise DateError(f"{image.name} (STAC item {item.id}) matches both the fine and the coarse pattern; "
                                "give patterns that split the items")
            if not roles:
                continue
            role = roles[0]
        else:
            role = _role(item, image)
            if role is None:
                unplaced.append(item.id)
                continue
        date = _date(item, path)
        if date in found[role]:
            raise DateError(f"two {role} STAC items in {path} have the date {date.isoformat()} "
                            f"({found[role][date].path.name}, {image.name}); keep one, or split them with the patterns")
        found[role][date] = DatedRaster(date, image, mask)
    if unplaced:
        more = f" and {len(unplaced) - 3} more" if len(unplaced) > 3 else ""
        raise FileFormatError(
            f"cannot tell fine from coarse for STAC items {', '.join(unplaced[:3])}{more} in {path}: give them a "
            "platform (landsat-8, sentinel-2a / terra, aqua, sentinel-3a) or a collection, or give the fine and "
            "coarse patterns"
        )
    for role, images in found.items():
        if not images:
            raise DateError(f"{path} has no {role} item; add dated {role} items or check the fine and coarse patterns")
    fine, coarse = (sorted(found[r].values(), key=lambda d: d.date) for r in ("fine", "coarse"))
    return fine, coarse
