"""Time-series fusion: a fine image for every coarse date that lacks one (`run_series`).

1. The fine and coarse folders are scanned for dated rasters (`stfusion.io.folder.scan_images`);
   a ``<name>_mask`` raster beside an image is its cloud mask (cfmask codes 0 and 1 are clear
   by default). A local STAC file is read instead with `stfusion.io.stac_read.stac_images`.
2. Each target date gets the nearest *clear* pair before it and the nearest after it (a fine
   image whose valid fraction is at least ``min_clear``, with a coarse image of its date).
   One-pair methods take the nearer of the two; two-pair methods take both, or the two nearest
   on one side when the other has none.
3. Targets sharing their pairs are predicted together with `stfusion.core.run.predict_series`,
   so what depends on the pairs only (STARFM statistics, ESTARFM thresholds, UBDF and FSDAF
   classes) is computed once.
4. Each prediction is written atomically as ``<method>_<YYYYMMDD>.tif`` (COG by default), and
   ``index.json``, a STAC ItemCollection of the outputs, is rewritten atomically after every
   date. A run started again with the same command skips the dates it already wrote.

Coarse composites (e.g. MODIS 16-day NDVI, dated by their first day) are matched with
``coarse_period=16``: the coarse image of a date is the one whose period contains it.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import (
    DateError,
    FileFormatError,
    InvalidParameterError,
    NoDataError,
    OutputExistsError,
    UnknownParameterError,
)
from ..core.registry import MethodSpec, get_spec
from ..core.run import check_classes, predict_series
from ..core.scene import RasterEncoding, Scene
from ..core.task import FusionTask, Pair
from ..io.folder import CFMASK_CLEAR, MASK_SUFFIX, DatedRaster, is_flat, read_masked, scan_images

INDEX_NAME = "index.json"
STAC_VERSION = "1.1.0"
PROJECTION_EXTENSION = "https://stac-extensions.github.io/projection/v2.0.0/schema.json"
RASTER_EXTENSION = "https://stac-extensions.github.io/raster/v1.1.0/schema.json"
COG_MEDIA_TYPE = "image/tiff; application=geotiff; profile=cloud-optimized"
TIFF_MEDIA_TYPE = "image/tiff; application=geotiff"


@dataclass(frozen=True)
class SeriesTarget:
    """A date to predict, its coarse image and the (fine, coarse) pairs chosen for it."""

    date: _dt.date
    coarse: DatedRaster
    pairs: tuple[tuple[DatedRaster, DatedRaster], ...]


@dataclass(frozen=True)
class SeriesPlan:
    """What a series run will predict (``targets``) and the dates it cannot (``skipped``: date, reason)."""

    targets: tuple[SeriesTarget, ...]
    skipped: tuple[tuple[_dt.date, str], ...]
    clear: Mapping[_dt.date, float] = field(default_factory=dict)


def coarse_for(date: _dt.date, coarse: Sequence[DatedRaster], period: int) -> DatedRaster | None:
    """The coarse image whose ``period`` days starting on its date contain ``date`` (None if none)."""
    covering = [c for c in coarse if c.date <= date < c.date + _dt.timedelta(days=period)]
    return max(covering, key=lambda c: c.date) if covering else None


def choose_pairs(date: _dt.date, candidates: Sequence[tuple[DatedRaster, DatedRaster]],
                 spec: MethodSpec) -> tuple[tuple[DatedRaster, DatedRaster], ...]:
    """The pairs for ``date``: the nearest candidate before and the nearest after, cut to what
    ``spec`` takes (one-pair methods: the nearer, the earlier on a tie; two-pair methods: the two
    nearest on one side when the other side has none). Empty when too few candidates exist."""
    before = sorted((c for c in candidates if c[0].date < date), key=lambda c: c[0].date, reverse=True)
    after = sorted((c for c in candidates if c[0].date > date), key=lambda c: c[0].date)
    chosen = before[:1] + after[:1]
    if spec.max_pairs == 1 and len(chosen) == 2:
        chosen = sorted(chosen, key=lambda c: (abs((c[0].date - date).days), c[0].date))[:1]
    if len(chosen) < spec.min_pairs:
        nearest = sorted(before + after, key=lambda c: (abs((c[0].date - date).days), c[0].date))
        chosen = nearest[: spec.min_pairs]
    if len(chosen) < spec.min_pairs:
        return ()
    return tuple(sorted(chosen, key=lambda c: c[0].date))


def plan_series(spec: MethodSpec, fine: Sequence[DatedRaster], coarse: Sequence[DatedRaster],
                clear: Mapping[_dt.date, float], *, dates: Sequence[_dt.date] | None = None,
                min_clear: float = 0.5, coarse_period: int = 1) -> SeriesPlan:
    """Targets and their pairs. ``clear`` is each fine date's valid fraction; ``dates`` the
    target dates (default: every coarse date whose period holds no fine image)."""
    fine_dates = {f.date for f in fine}
    if dates is None:
        period = _dt.timedelta(days=coarse_period)
        wanted = [c.date for c in coarse if not any(c.date <= d < c.date + period for d in fine_dates)]
    else:
        wanted = sorted(set(dates))
        with_fine = [d for d in wanted if d in fine_dates]
        if with_fine:
            raise DateError(
                f"{with_fine[0].isoformat()} has a fine image in the fine folder; drop it from dates "
                "or move that image out of the folder to predict it"
            )
    candidates = []
    for f in fine:
        c = coarse_for(f.date, coarse, coarse_period)
        if c is not None and clear[f.date] >= min_clear:
            candidates.append((f, c))
    targets, skipped = [], []
    for d in wanted:
        c = coarse_for(d, coarse, coarse_period)
        if c is None:
            skipped.append((d, f"no coarse image covers {d.isoformat()}"))
            continue
        pairs = choose_pairs(d, candidates, spec)
        if not pairs:
            skipped.append((d, f"fewer than {spec.min_pairs} fine image(s) at least {min_clear:.0%} clear "
                               "with a coarse image of their date"))
            continue
        targets.append(SeriesTarget(d, c, pairs))
    return SeriesPlan(tuple(targets), tuple(skipped), dict(clear))


def output_name(method: str, date: _dt.date) -> str:
    """File name of the prediction of ``date``: ``<method>_<YYYYMMDD>.tif``."""
    return f"{method}_{date:%Y%m%d}.tif"


def _write_json(path: Path, content: Mapping[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        tmp.write_text(json.dumps(content, indent=1) + "\n")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _stamp(item: DatedRaster | None) -> list[Any] | None:
    if item is None:
        return None
    st = item.path.stat()
    return [item.path.name, st.st_size, st.st_mtime_ns, item.mask.name if item.mask else None]


def _geometry(scene: Scene) -> tuple[dict[str, Any] | None, list[float] | None]:
    """GeoJSON footprint and bbox in WGS84, or (None, None) for a local or missing CRS."""
    from rasterio.crs import CRS
    from rasterio.errors import CRSError
    from rasterio.warp import transform_bounds

    if scene.crs is None:
        return None, None
    try:
        crs = CRS.from_user_input(scene.crs)
        if not crs.is_geographic and not crs.is_projected:
            return None, None
        w, s, e, n = transform_bounds(crs, "EPSG:4326", *scene.bounds)
    except (CRSError, ValueError):  # a CRS PROJ cannot relate to WGS84
        return None, None
    ring = [[w, s], [e, s], [e, n], [w, n], [w, s]]
    return {"type": "Polygon", "coordinates": [ring]}, [w, s, e, n]


def _raster_bands(encoding: RasterEncoding, count: int) -> list[dict[str, Any]]:
    """The ``raster:bands`` of an output: data type, nodata, and scale and offset when not 1 and 0."""
    band: dict[str, Any] = {"data_type": encoding.dtype}
    nodata = encoding.nodata
    if nodata is not None:
        band["nodata"] = str(nodata) if not np.isfinite(nodata) else int(nodata) if nodata.is_integer() else nodata
    if (encoding.scale, encoding.offset) != (1.0, 0.0):
        band |= {"scale": encoding.scale, "offset": encoding.offset}
    return [band] * count


def _item(method: str, target: SeriesTarget, scene: Scene, path: Path, driver: str) -> dict[str, Any]:
    """The STAC Item of one output (projection and raster extensions, the bands as stfusion reads the file)."""
    from ..io.window import RasterSource

    written = RasterSource(path)
    crs = written.template.crs
    geometry, bbox = _geometry(scene)
    props: dict[str, Any] = {
        "datetime": f"{target.date.isoformat()}T00:00:00Z",
        "stfusion:method": method,
        "stfusion:pairs": [f.date.isoformat() for f, _ in target.pairs],
        "stfusion:coarse": target.coarse.path.name,
        "stfusion:valid_fraction": round(float(np.mean(scene.mask)), 6),
        "proj:code": crs if crs and crs.startswith("EPSG:") else None,
        "proj:shape": [scene.height, scene.width],
        "proj:transform": [float(v) for v in scene.transform],
    }
    if crs and not props["proj:code"]:
        props["proj:wkt2"] = crs
    item: dict[str, Any] = {
        "type": "Feature",
        "stac_version": STAC_VERSION,
        "stac_extensions": [PROJECTION_EXTENSION, RASTER_EXTENSION],
        "id": path.stem,
        "geometry": geometry,
        "properties": props,
        "assets": {"data": {"href": path.name, "type": COG_MEDIA_TYPE if driver == "COG" else TIFF_MEDIA_TYPE,
                            "roles": ["data"], "raster:bands": _raster_bands(written.encoding, scene.count)}},
        "links": [],
    }
    if bbox is not None:
        item["bbox"] = bbox
    return item


class _Images:
    """Reads fine and coarse images once each (coarse aligned to the fine grid), keeping those
    the current group of targets needs."""

    def __init__(self, clear_codes: Sequence[float], resample: str, ratio: float | None) -> None:
        self.clear_codes = clear_codes
        self.resample = resample
        self.ratio = ratio
        self._cache: dict[Path, Scene] = {}

    def read(self, item: DatedRaster) -> Scene:
        if item.path not in self._cache:
            scene = read_masked(item.path, item.mask, clear_codes=self.clear_codes)
            self._cache[item.path] = scene.replace(date=item.date, name=item.path.name)
        return self._cache[item.path]

    def keep(self, items: Sequence[DatedRaster]) -> None:
        wanted = {i.path for i in items}
        self._cache = {p: s for p, s in self._cache.items() if p in wanted}

    def task_parts(self, target: SeriesTarget, date: _dt.date) -> tuple[list[Pair], Scene, float | None]:
        """Pairs and target on the fine grid, and the ratio (inferred from the transforms when the
        coarse images have their own grid)."""
        from ..io import align_to_fine
        from ..io.products import to_fine_crs

        like = self.read(target.pairs[0][0])

        def coarse_of(item: DatedRaster) -> Scene:  # a product in another CRS (MODIS sinusoidal) in the fine CRS
            self._cache[item.path] = to_fine_crs(item.path, self.read(item), like)  # warped once: then a no-op
            return self._cache[item.path]

        pairs = [Pair(self.read(f), coarse_of(c).replace(date=f.date)) for f, c in target.pairs]
        coarse = coarse_of(target.coarse).replace(date=date)
        task = FusionTask(pairs, coarse, ratio=self.ratio)
        if task.coarse_on_fine_grid:
            return pairs, coarse, task.ratio
        grid = task.fine_grid
        aligned = [Pair(p.fine, align_to_fine(p.coarse, grid, method=self.resample)) for p in pairs]
        return aligned, align_to_fine(coarse, grid, method=self.resample), task.ratio


@dataclass(frozen=True)
class SeriesResult:
    """What a series run wrote: the index, the output per date, and the dates skipped (with why)."""

    index: Path
    outputs: Mapping[_dt.date, Path]
    skipped: Mapping[_dt.date, str]
    resumed: tuple[_dt.date, ...] = ()


def _fingerprint(spec: MethodSpec, params: Any, fine: Sequence[DatedRaster], coarse: Sequence[DatedRaster],
                 options: Mapping[str, Any]) -> dict[str, Any]:
    from .. import __version__

    return {
        "stfusion": __version__,
        "method": spec.name,
        "params": {k: repr(v) for k, v in sorted(vars(params).items())},
        "fine": [_stamp(f) for f in fine],
        "coarse": [_stamp(c) for c in coarse],
        "options": {k: repr(v) for k, v in sorted(options.items())},
    }


def _classes_key(classes: Any) -> Any:
    if classes is None:
        return None
    if isinstance(classes, np.ndarray):
        return hashlib.sha1(np.ascontiguousarray(classes).tobytes()).hexdigest()
    st = Path(classes).stat()
    return [str(Path(classes).resolve()), st.st_size, st.st_mtime_ns]


def _previous(index: Path, fingerprint: Mapping[str, Any]) -> dict[str, Any] | None:
    """The features of an earlier run with the same fingerprint, by date (None if not resumable)."""
    try:
        old = json.loads(index.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(old, dict) or old.get("stfusion:run") != fingerprint:
        return None
    return {f["properties"]["datetime"][:10]: f for f in old.get("features", [])
            if (index.parent / f["assets"]["data"]["href"]).is_file()}


def run_series(
    method: str,
    fine_dir: str | os.PathLike[str],
    coarse_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    dates: Sequence[_dt.date] | None = None,
    params: Mapping[str, Any] | None = None,
    fine_pattern: str = "*",
    coarse_pattern: str = "*",
    mask_suffix: str = MASK_SUFFIX,
    clear_codes: Sequence[float] = CFMASK_CLEAR,
    min_clear: float = 0.5,
    coarse_period: int = 1,
    ratio: float | None = None,
    resample: str = "average",
    classes: np.ndarray | str | os.PathLike[str] | None = None,
    driver: str = "COG",
    overwrite: bool = False,
    progress: bool | None = None,
    chunk: int | None = None,
    workers: int | None = None,
) -> SeriesResult:
    """Predict a fine image for every target date of the folders and index the outputs (see the
    module docstring); ``fine_dir`` may instead be a local STAC file of both kinds (`stac_images`;
    ``coarse_dir`` is then unused). ``dates`` overrides the targets; ``params`` are the method's
    parameters; ``classes`` a class map on the fine grid (array or raster file). Dates that cannot be
    predicted are listed in the index under ``stfusion:skipped`` with the reason; if none can
    be, `NoDataError`. With ``chunk`` every date is streamed in ``chunk``-pixel blocks on
    ``workers`` threads (`stream_predict`: memory set by the block, not the scene; resumable
    within a date), and the pair statistics are computed per date.
    """
    from tqdm import tqdm

    spec = get_spec(method)
    parsed = spec.make_params(params)
    if spec.task != "stf" or spec.needs_training:
        raise UnknownParameterError(
            f"{spec.name} cannot run a series (series runs spatiotemporal methods without training); "
            "see `stfusion methods --task stf`"
        )
    check_classes(spec, classes)
    if chunk is not None and (not spec.blockwise or isinstance(classes, np.ndarray) or chunk < 1):
        raise InvalidParameterError(
            f"{spec.name} cannot stream a series with chunk={chunk}: streaming needs a blockwise method, a positive "
            "block size and a class map file (not an array); run without chunk=N or change these"
        )
    if classes is not None and not isinstance(classes, np.ndarray) and not Path(classes).is_file():
        raise FileFormatError(f"class map {classes} does not exist; give a single-band class raster on the fine grid")
    if not 0.0 <= min_clear <= 1.0:
        raise InvalidParameterError(f"min_clear must lie in [0, 1], got {min_clear}; give e.g. min_clear=0.5")
    if coarse_period < 1:
        raise InvalidParameterError(f"coarse_period must be at least 1 day, got {coarse_period}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"out_dir={out} is a file; give a folder")
    if Path(fine_dir).is_file():  # a STAC catalogue or ItemCollection of both kinds
        from ..io.stac_read import stac_images

        fine, coarse = stac_images(fine_dir, fine_pattern=fine_pattern, coarse_pattern=coarse_pattern,
                                   mask_suffix=mask_suffix)
    else:
        flat = is_flat(fine_dir, coarse_dir) and fine_pattern == coarse_pattern == "*"  # split by sensor codes
        fine = scan_images(fine_dir, pattern=fine_pattern, mask_suffix=mask_suffix, role="fine", by_sensor=flat)
        coarse = scan_images(coarse_dir, pattern=coarse_pattern, mask_suffix=mask_suffix, role="coarse",
                             by_sensor=flat)
    clash = {f.path for f in fine} & {c.path for c in coarse}
    if clash:
        raise DateError(f"{sorted(clash)[0].name} is both a fine and a coarse image; give fine_pattern=GLOB and "
                        "coarse_pattern=GLOB that split the folder")
    if chunk is not None:
        from ..io.products import refuse_streaming

        refuse_streaming([i.path for i in (*fine, *coarse)])

    options = dict(dates=None if dates is None else sorted(set(dates)), min_clear=min_clear,
                   coarse_period=coarse_period, ratio=ratio, resample=resample, driver=driver,
                   clear_codes=tuple(clear_codes), classes=_classes_key(classes), chunk=chunk)
    fingerprint = _fingerprint(spec, parsed, fine, coarse, options)
    index = out / INDEX_NAME
    done = _previous(index, fingerprint) if not overwrite else None
    if done is None and not overwrite and out.is_dir() and any(out.iterdir()):
        raise OutputExistsError(
            f"out_dir={out} is not empty and holds no unfinished run of this command; "
            "pass overwrite=True to replace its outputs or choose an empty folder"
        )
    done = done or {}

    clear = {f.date: clear_fraction(f, clear_codes) for f in fine}
    images = _Images(clear_codes, resample, ratio)
    class_file = None if classes is None or isinstance(classes, np.ndarray) else Path(classes)
    if class_file is not None and chunk is None:
        from .files import read_classes

        classes = read_classes(class_file, images.read(fine[0]))
        images.keep([])
    plan = plan_series(spec, fine, coarse, clear, dates=dates, min_clear=min_clear, coarse_period=coarse_period)
    skipped = dict(plan.skipped)
    features = {d: f for d, f in done.items()}
    outputs = {_dt.date.fromisoformat(d): out / f["assets"]["data"]["href"] for d, f in done.items()}
    resumed = tuple(sorted(outputs))
    todo = [t for t in plan.targets if t.date.isoformat() not in done]

    def save_index() -> None:
        out.mkdir(parents=True, exist_ok=True)
        _write_json(index, {
            "type": "FeatureCollection",
            "stac_version": STAC_VERSION,
            "features": [features[d] for d in sorted(features)],
            "stfusion:skipped": [{"date": d.isoformat(), "reason": r} for d, r in sorted(skipped.items())],
            "stfusion:run": fingerprint,
        })

    def record(t: SeriesTarget, path: Path | None, scene: Scene | None) -> None:
        if path is not None and scene is not None:
            outputs[t.date] = path
            features[t.date.isoformat()] = _item(spec.name, t, scene, path, driver)
        save_index()
        bar.update(1)

    given = {k: getattr(parsed, k) for k in (params or {})}
    bar = tqdm(total=len(plan.targets), initial=len(plan.targets) - len(todo), unit="date",
               desc=f"series {spec.name}", disable=None if progress is None else not progress)
    with bar:
        if chunk is not None:
            for t in todo:
                record(t, *_stream_date(spec.name, t, out, given, clear_codes, ratio, resample, class_file,
                                        driver, chunk, workers, skipped))
        else:
            groups: dict[tuple[Path, ...], list[SeriesTarget]] = {}
            for t in todo:
                groups.setdefault(tuple(f.path for f, _ in t.pairs), []).append(t)
            for group in groups.values():
                images.keep([i for t in group for f, c in t.pairs for i in (f, c)] + [t.coarse for t in group])
                for t, path, scene in _memory_group(spec.name, group, images, out, given, classes, driver, skipped):
                    record(t, path, scene)
    save_index()
    if not outputs:
        first = min(skipped.items()) if skipped else None
        why = f" ({first[0].isoformat()}: {first[1]})" if first else ""
        raise NoDataError(f"no date of the series could be predicted{why}; see {index}")
    return SeriesResult(index, dict(sorted(outputs.items())), dict(sorted(skipped.items())), resumed)


def clear_fraction(item: DatedRaster, clear_codes: Sequence[float]) -> float:
    """Fraction of the pixels of ``item`` that are valid (not nodata, mask value clear), read strip by
    strip (a downloaded product is read whole, with its QA mask)."""
    from ..io.products import find_product
    from ..io.window import MaskedSource, RasterSource

    if find_product(item.path) is not None:
        return float(np.asarray(read_masked(item.path, item.mask, clear_codes=clear_codes).mask).mean())
    mask = MaskedSource(RasterSource(item.path), item.mask, clear_codes).template.mask
    return float(mask.mean().compute())


def _memory_group(method: str, group: list[SeriesTarget], images: _Images, out: Path, params: Mapping[str, Any],
                  classes: np.ndarray | None, driver: str,
                  skipped: dict[_dt.date, str]) -> list[tuple[SeriesTarget, Path | None, Scene | None]]:
    """Targets sharing their pairs, predicted in memory together and written one by one."""
    from ..io import write_scene

    usable, ratio, done = [], None, []
    for t in group:
        try:
            pairs, target, ratio = images.task_parts(t, t.date)
            usable.append((t, pairs, target))
        except NoDataError as exc:  # an image of the date is all cloud or nodata
            skipped[t.date] = " ".join(str(exc).split())
            done.append((t, None, None))
    if usable:
        for (t, pairs, _), scene in zip(usable, _predict_group(method, usable, ratio, classes, params, skipped)):
            path = None
            if scene is not None:
                path = write_scene(scene.replace(date=t.date), out / output_name(method, t.date), like=pairs[0].fine,
                                   driver=driver, overwrite=True)
            done.append((t, path, scene))
    return done


def _stream_date(method: str, t: SeriesTarget, out: Path, params: Mapping[str, Any], clear_codes: Sequence[float],
                 ratio: float | None, resample: str, classes: Path | None, driver: str, chunk: int,
                 workers: int | None, skipped: dict[_dt.date, str]) -> tuple[Path | None, Scene | None]:
    """One target streamed block by block from the files (with their masks) to its output."""
    from ..io.window import MaskedSource, RasterSource
    from .stream import stream_predict

    def source(item: DatedRaster, date: _dt.date) -> MaskedSource:
        return MaskedSource(RasterSource(item.path), item.mask, clear_codes, date)

    pairs = [(source(f, f.date), source(c, f.date)) for f, c in t.pairs]
    try:
        path = stream_predict(method, pairs, source(t.coarse, t.date), out / output_name(method, t.date),
                              params=params, ratio=ratio, block=chunk, workers=workers, driver=driver,
                              resample=resample, classes=classes, overwrite=True, progress=False)
    except NoDataError as exc:
        skipped[t.date] = " ".join(str(exc).split())
        return None, None
    written = RasterSource(path).template
    return path, written.replace(mask=np.asarray(written.mask.compute()))


def _predict_group(method: str, usable: list[tuple[SeriesTarget, list[Pair], Scene]], ratio: float | None,
                   classes: np.ndarray | None, params: Mapping[str, Any],
                   skipped: dict[_dt.date, str]) -> list[Scene | None]:
    """Predictions of targets sharing their pairs; a target the method cannot predict is skipped."""
    pairs = usable[0][1]
    try:
        return list(predict_series(method, pairs, [t for _, _, t in usable], ratio=ratio, classes=classes, **params))
    except NoDataError as exc:
        if len(usable) == 1:
            skipped[usable[0][0].date] = str(exc)
            return [None]
    return [_predict_group(method, [u], ratio, classes, params, skipped)[0] for u in usable]
