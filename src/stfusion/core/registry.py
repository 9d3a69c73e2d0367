"""The method registry: one explicit dict from a method's name to its `MethodSpec`.

A method's module is imported only when the method is first used, so `core` never imports
an algorithm at import time. A method module exposes ``predict(task, params) -> Scene``.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import typing
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable, Iterable, Mapping

from .blockwise import BlockwiseMethod
from .errors import InvalidParameterError, UnknownMethodError, UnknownParameterError
from .params import DeltaParams, NoChangeParams
from .params.estarfm import EstarfmParams, estarfm_halo
from .params.starfm import StarfmParams, starfm_halo
from .params.ubdf import UbdfParams, ubdf_halo
from .params.fsdaf import FsdafParams, fsdaf_halo
from .params.fitfc import FitfcParams, fitfc_halo
from .params.spstfm import SpstfmParams, spstfm_halo
from .params.deep import DcstfnParams, EdcstfnParams, GanstfmParams, StfdcnnParams
from .params.stsf import (
    BicubicParams,
    CascadeParams,
    CnmfParams,
    DcstsfParams,
    GsaParams,
    cascade_halo,
    cnmf_halo,
    dcstsf_halo,
    stsf_halo,
)


def _no_halo(params: Any, resolution: float | None) -> int:
    return 0


@dataclass(frozen=True)
class MethodSpec:
    """What the rest of stfusion knows about a method before importing it.

    ``halo(params, resolution_m)`` is the number of pixels a block needs on each side: fine pixels
    for STF methods, HS pixels for STSF methods.
    ``takes_classes`` methods accept a user class map: ``predict(task, params, classes=...)``.
    ``blockwise`` methods also expose ``stats(task, params)`` and ``predict_block(block, stats,
    params) -> (data, mask)`` (see `stfusion.core.block`), so runners can tile them.
    """

    name: str
    family: str
    task: str  # "stf" or "stsf"
    min_pairs: int
    max_pairs: int | None
    params: type
    module: str
    summary: str
    reference: str = ""
    needs_training: bool = False
    blockwise: bool = False
    halo: Callable[[Any, float | None], int] = _no_halo
    takes_classes: bool = False

    def load(self) -> ModuleType:
        """Import the method's module (once) and return it."""
        return importlib.import_module(self.module)

    def blockwise_module(self) -> BlockwiseMethod:
        """The method's module as a `BlockwiseMethod`, or a one-line error for a method that cannot be tiled."""
        module = self.load() if self.blockwise else None
        if not isinstance(module, BlockwiseMethod):
            raise InvalidParameterError(f"{self.name} cannot run block by block; run it without chunk=N")
        return module

    def make_params(self, overrides: Mapping[str, Any] | None = None) -> Any:
        """The parameter dataclass with ``overrides`` applied; strings are parsed by field type."""
        overrides = dict(overrides or {})
        fields = {f.name: f for f in dataclasses.fields(self.params)}
        unknown = sorted(set(overrides) - set(fields))
        if unknown:
            valid = ", ".join(fields) or "none"
            hint = did_you_mean(unknown[0], fields)
            raise UnknownParameterError(
                f"{self.name} has no parameter {', '.join(repr(u) for u in unknown)}{hint}; valid parameters: {valid}"
            )
        hints = typing.get_type_hints(self.params)
        parsed = {k: _parse_value(self.name, k, v, hints[k]) for k, v in overrides.items()}
        return self.params(**parsed)

    def defaults(self) -> dict[str, Any]:
        """Parameter names and default values."""
        return {f.name: getattr(self.params(), f.name) for f in dataclasses.fields(self.params)}

    def pairs_text(self) -> str:
        if self.task == "stsf":
            return "-"
        if self.max_pairs == self.min_pairs:
            return str(self.min_pairs)
        return f"{self.min_pairs}+" if self.max_pairs is None else f"{self.min_pairs}-{self.max_pairs}"


def _parse_value(method: str, key: str, value: Any, hint: Any) -> Any:
    """Convert ``value`` (often a CLI string) to the field type ``hint``."""
    args = typing.get_args(hint)
    optional = type(None) in args
    base = next((a for a in args if a is not type(None)), hint) if args else hint
    if typing.get_origin(hint) is typing.Literal or typing.get_origin(base) is typing.Literal:
        choices = typing.get_args(base if typing.get_origin(base) is typing.Literal else hint)
        if value not in choices:
            raise UnknownParameterError(
                f"{method}: {key}={value!r} is not one of {', '.join(map(str, choices))}"
            )
        return value
    if not isinstance(value, str):
        return value
    text = value.strip()
    if optional and text.lower() in ("none", "null", ""):
        return None
    try:
        if base is bool:
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
        if base is int:
            return int(text)
        if base is float:
            return float(text)
    except ValueError:
        raise InvalidParameterError(
            f"{method}: {key}={value!r} is not a valid {base.__name__}; give e.g. {key}={_example(base)}"
        ) from None
    return text


def _example(tp: type) -> str:
    return {bool: "true", int: "3", float: "0.5"}.get(tp, "value")


REGISTRY: dict[str, MethodSpec] = {
    spec.name: spec
    for spec in (
        MethodSpec(
            name="nochange",
            family="baseline",
            task="stf",
            min_pairs=1,
            max_pairs=None,
            params=NoChangeParams,
            module="stfusion.methods.baselines",
            summary="fine image of the nearest base date",
            blockwise=True,
        ),
        MethodSpec(
            name="delta",
            family="baseline",
            task="stf",
            min_pairs=1,
            max_pairs=None,
            params=DeltaParams,
            module="stfusion.methods.baselines",
            summary="fine + coarse change, inverse-time-distance weighted over pairs",
            blockwise=True,
        ),
        MethodSpec(
            name="starfm",
            family="weighting",
            task="stf",
            min_pairs=1,
            max_pairs=None,
            params=StarfmParams,
            module="stfusion.methods.classical.starfm",
            summary="spatial and temporal adaptive reflectance fusion model",
            reference="Gao et al. 2006, IEEE TGRS 44(8):2207-2218",
            blockwise=True,
            halo=starfm_halo,
            takes_classes=True,
        ),
        MethodSpec(
            name="estarfm",
            family="weighting",
            task="stf",
            min_pairs=2,
            max_pairs=2,
            params=EstarfmParams,
            module="stfusion.methods.classical.estarfm",
            summary="enhanced STARFM: two pairs, conversion coefficients by local regression",
            reference="Zhu et al. 2010, RSE 114:2610-2623",
            blockwise=True,
            halo=estarfm_halo,
        ),
        MethodSpec(
            name="ubdf",
            family="unmixing",
            task="stf",
            min_pairs=1,
            max_pairs=None,
            params=UbdfParams,
            module="stfusion.methods.classical.ubdf",
            summary="unmixing-based data fusion: k-means classes, windowed bounded least-squares unmixing",
            reference="Zurita-Milla et al. 2008, IEEE GRSL 5(3):453-457; 2009, RSE 113:1874-1885",
            blockwise=True,
            halo=ubdf_halo,
            takes_classes=True,
        ),
        MethodSpec(
            name="fsdaf",
            family="hybrid",
            task="stf",
            min_pairs=1,
            max_pairs=1,
            params=FsdafParams,
            module="stfusion.methods.classical.fsdaf",
            summary="flexible spatiotemporal data fusion: class unmixing, TPS and residual distribution",
            reference="Zhu et al. 2016, RSE 172:165-177",
            blockwise=True,
            halo=fsdaf_halo,
            takes_classes=True,
        ),
        MethodSpec(
            name="fitfc",
            family="hybrid",
            task="stf",
            min_pairs=1,
            max_pairs=1,
            params=FitfcParams,
            module="stfusion.methods.classical.fitfc",
            summary="regression model fitting, spatial filtering and residual compensation (one pair)",
            reference="Wang & Atkinson 2018, RSE 204:31-42",
            blockwise=True,
            halo=fitfc_halo,
        ),
        MethodSpec(
            name="spstfm",
            family="dictionary learning",
            task="stf",
            min_pairs=2,
            max_pairs=2,
            params=SpstfmParams,
            module="stfusion.methods.classical.spstfm",
            summary="sparse representation: coupled K-SVD dictionaries of fine/coarse change, OMP codes",
            reference="Huang & Song 2012, IEEE TGRS 50(10):3707-3716",
            blockwise=True,
            halo=spstfm_halo,
        ),
        MethodSpec(
            name="stfdcnn",
            family="deep",
            task="stf",
            min_pairs=1,
            max_pairs=None,
            params=StfdcnnParams,
            module="stfusion.methods.deep.run",
            summary="two super-resolution CNN stages (coarse -> LSR -> fine) with high-pass temporal fusion",
            reference="Song et al. 2018, IEEE JSTARS 11(3):821-829",
            needs_training=True,
            blockwise=True,
        ),
        MethodSpec(
            name="dcstfn",
            family="deep",
            task="stf",
            min_pairs=1,
            max_pairs=None,
            params=DcstfnParams,
            module="stfusion.methods.deep.run",
            summary="deep convolutional STF network: fine(F1) - coarse(C1) + coarse(C2) features, decoded",
            reference="Tan et al. 2018, Remote Sensing 10(7):1066",
            needs_training=True,
            blockwise=True,
        ),
        MethodSpec(
            name="edcstfn",
            family="deep",
            task="stf",
            min_pairs=1,
            max_pairs=None,
            params=EdcstfnParams,
            module="stfusion.methods.deep.run",
            summary="enhanced DCSTFN: fine + residual encoders, compound MSE/feature/MS-SSIM loss",
            reference="Tan et al. 2019, Remote Sensing 11(24):2898",
            needs_training=True,
            blockwise=True,
        ),
        MethodSpec(
            name="ganstfm",
            family="deep",
            task="stf",
            min_pairs=1,
            max_pairs=None,
            params=GanstfmParams,
            module="stfusion.methods.deep.run",
            summary="conditional GAN from the target coarse image and one fine reference of any date",
            reference="Tan et al. 2022, IEEE TGRS 60:1-13",
            needs_training=True,
            blockwise=True,
        ),
        MethodSpec(
            name="bicubic",
            family="baseline",
            task="stsf",
            min_pairs=0,
            max_pairs=0,
            params=BicubicParams,
            module="stfusion.methods.classical.hs_bicubic",
            summary="the coarse HS image upsampled by cubic convolution (no MS image, no change)",
            reference="Keys 1981, IEEE TASSP 29(6):1153-1160",
            blockwise=True,
            halo=stsf_halo,
        ),
        MethodSpec(
            name="gsa",
            family="hypersharpening",
            task="stsf",
            min_pairs=0,
            max_pairs=0,
            params=GsaParams,
            module="stfusion.methods.classical.gsa",
            summary="GSA detail injection with a synthetic high-resolution band per HS band",
            reference="Aiazzi et al. 2007, IEEE TGRS 45(10); Selva et al. 2015, IEEE JSTSP 9(6)",
            blockwise=True,
            halo=stsf_halo,
        ),
        MethodSpec(
            name="cnmf",
            family="unmixing",
            task="stsf",
            min_pairs=0,
            max_pairs=0,
            params=CnmfParams,
            module="stfusion.methods.classical.cnmf",
            summary="coupled NMF: HS endmembers x MS abundances",
            reference="Yokoya, Yairi & Iwasaki 2012, IEEE TGRS 50(2):528-537",
            blockwise=True,
            halo=cnmf_halo,
        ),
        MethodSpec(
            name="cascade",
            family="two-step",
            task="stsf",
            min_pairs=0,
            max_pairs=0,
            params=CascadeParams,
            module="stfusion.methods.classical.stsf_cascade",
            summary="fuse at t1 (GSA or CNMF), then add the MS change regressed onto the HS bands",
            reference="two-step STSF baseline (e.g. Shen, Meng & Zhang 2016, IEEE TGRS 54(12))",
            blockwise=True,
            halo=cascade_halo,
        ),
        MethodSpec(
            name="dcstsf",
            family="deep",
            task="stsf",
            min_pairs=0,
            max_pairs=0,
            params=DcstsfParams,
            module="stfusion.methods.deep.stsf_run",
            summary="DC-STSF: alternating-projection SSJE (SEU + ECU) cascaded with TVE (SFTN)",
            reference="Meng et al. 2025, IEEE TGRS 63, doi:10.1109/TGRS.2025.3565637",
            needs_training=True,
            blockwise=True,
            halo=dcstsf_halo,
        ),
    )
}


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the known name closest to a misspelt ``name``, or ""."""
    close = difflib.get_close_matches(str(name).strip().lower(), list(known), n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def get_spec(name: str) -> MethodSpec:
    """The spec of method ``name`` (case-insensitive), or `UnknownMethodError`: the closest known
    name when the name looks misspelt, else the list of known ones."""
    key = str(name).strip().lower()
    if key not in REGISTRY:
        hint = did_you_mean(key, REGISTRY)
        known = "all methods: `stfusion methods`" if hint else f"known methods: {', '.join(sorted(REGISTRY))}"
        raise UnknownMethodError(f"unknown method {name!r}{hint}; {known}")
    return REGISTRY[key]


def list_methods(task: str | None = None) -> list[MethodSpec]:
    """All specs, optionally only those of one task kind ("stf" or "stsf")."""
    return [s for s in REGISTRY.values() if task is None or s.task == task]
