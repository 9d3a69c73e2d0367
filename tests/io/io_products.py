"""Tiny products laid out as they are downloaded (names, data types, fill values, QA layers), for the product tests."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.transform import Affine

UTM = "EPSG:32650"
SINUSOIDAL = "+proj=sinu +lon_0=0 +x_0=0 +y_0=0 +R=6371007.181 +units=m +no_defs"
MODIS_500M = 463.312716528
LANDSAT_ID = "LC08_L2SP_121039_20200601_20200824_02_T1"
LANDSAT_GRID = Affine(30, 0, 500010, 0, -30, 3300000)
S2_TAKE = "T50RQV_20220601T023249"
S2_SAFE = "S2A_MSIL2A_20220601T023249_N0400_R103_T50RQV_20220601T060101.SAFE"
HLS_L30 = "HLS.L30.T50RQV.2020153T024512.v2.0"


def write(path: Path, data: np.ndarray, *, transform: Affine, crs: str, driver: str = "GTiff", **tags: Any) -> Path:
    """A single- or multi-band raster (``tags``: nodata, scales, offsets, descriptions)."""
    data = np.asarray(data)
    data = data[None] if data.ndim == 2 else data
    path.parent.mkdir(parents=True, exist_ok=True)
    extra = {"QUALITY": 100, "REVERSIBLE": "YES"} if driver == "JP2OpenJPEG" else {}
    with rasterio.open(path, "w", driver=driver, width=data.shape[2], height=data.shape[1], count=data.shape[0],
                       dtype=str(data.dtype), crs=crs, transform=transform, nodata=tags.get("nodata"), **extra) as dst:
        dst.write(data)
        if "scales" in tags:
            dst.scales, dst.offsets = tags["scales"], tags["offsets"]
        if "descriptions" in tags:
            dst.descriptions = tags["descriptions"]
    return path


def landsat(folder: Path, dn: Mapping[int, np.ndarray], qa: np.ndarray, *, product_id: str = LANDSAT_ID,
            transform: Affine = LANDSAT_GRID) -> Path:
    """A Collection 2 Level-2 folder: ``<ID>_SR_B<n>.TIF`` (uint16, no nodata tag: DN 0 is fill by the
    product's rules) per ``dn`` band, QA_PIXEL and MTL."""
    folder.mkdir(parents=True, exist_ok=True)
    for n, values in dn.items():
        write(folder / f"{product_id}_SR_B{n}.TIF", values.astype(np.uint16), transform=transform, crs=UTM)
    write(folder / f"{product_id}_QA_PIXEL.TIF", qa.astype(np.uint16), transform=transform, crs=UTM)
    (folder / f"{product_id}_MTL.txt").write_text(f'GROUP = LANDSAT_METADATA_FILE\n  LANDSAT_PRODUCT_ID = "{product_id}"\nEND\n')
    return folder


def mtd_xml(baseline: str, offsets: bool) -> str:
    """A minimal MTD_MSIL2A.xml: processing baseline, quantification and (from 04.00) the BOA offsets."""
    listed = "".join(f'<BOA_ADD_OFFSET band_id="{i}">-1000</BOA_ADD_OFFSET>' for i in range(13))
    offset_list = f"<BOA_ADD_OFFSET_VALUES_LIST>{listed}</BOA_ADD_OFFSET_VALUES_LIST>" if offsets else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<n1:Level-2A_User_Product xmlns:n1="https://psd-14.sentinel2.eo.esa.int/PSD/User_Product_Level-2A.xsd">'
        f"<n1:General_Info><Product_Info><PRODUCT_TYPE>S2MSI2A</PRODUCT_TYPE><PROCESSING_BASELINE>{baseline}"
        "</PROCESSING_BASELINE></Product_Info><Product_Image_Characteristics><QUANTIFICATION_VALUES_LIST>"
        '<BOA_QUANTIFICATION_VALUE unit="none">10000</BOA_QUANTIFICATION_VALUE></QUANTIFICATION_VALUES_LIST>'
        f"{offset_list}</Product_Image_Characteristics></n1:General_Info></n1:Level-2A_User_Product>"
    )


S2_10M, S2_20M = ("B02", "B03", "B04", "B08"), ("B11", "B12", "SCL")


def sentinel2_safe(parent: Path, dn10: np.ndarray, dn20: np.ndarray, scl: np.ndarray, *, baseline: str = "04.00",
                   offsets: bool = True, name: str = S2_SAFE) -> Path:
    """A .SAFE folder: R10m B02-B04, B08 (``dn10``) and R20m B11, B12 (``dn20``), SCL, as lossless JP2."""
    safe = parent / name
    img = safe / "GRANULE" / "L2A_T50RQV_A036262_20220601T024512" / "IMG_DATA"
    t10 = Affine(10, 0, 600000, 0, -10, 3300000)
    t20 = Affine(20, 0, 600000, 0, -20, 3300000)
    for band in S2_10M:
        write(img / "R10m" / f"{S2_TAKE}_{band}_10m.jp2", dn10.astype(np.uint16), transform=t10, crs=UTM,
              driver="JP2OpenJPEG")
    for band, values in zip(S2_20M, (dn20, dn20, scl)):
        dtype = np.uint8 if band == "SCL" else np.uint16
        write(img / "R20m" / f"{S2_TAKE}_{band}_20m.jp2", values.astype(dtype), transform=t20, crs=UTM,
              driver="JP2OpenJPEG")
    (safe / "MTD_MSIL2A.xml").write_text(mtd_xml(baseline, offsets))
    return safe


def hls(folder: Path, bands: Mapping[str, np.ndarray], fmask: np.ndarray, *, granule: str = HLS_L30) -> Path:
    """An HLS granule: ``<granule>.<band>.tif`` int16 files (fill -9999) and ``Fmask`` (uint8)."""
    t = Affine(30, 0, 600000, 0, -30, 3300000)
    for band, values in bands.items():
        write(folder / f"{granule}.{band}.tif", values.astype(np.int16), transform=t, crs=UTM, nodata=-9999)
    write(folder / f"{granule}.Fmask.tif", fmask.astype(np.uint8), transform=t, crs=UTM, nodata=255)
    return folder


def sinusoidal_transform(left: float, top: float, size: float = MODIS_500M) -> Affine:
    return Affine(size, 0, left, 0, -size, top)


def mod09ga(folder: Path, sr: Mapping[int, np.ndarray], state: np.ndarray, transform: Affine,
            *, stem: str = "MOD09GA.A2020153.h27v06.061.2020155032455") -> Path:
    """MOD09GA layers exported to GeoTIFF in the sinusoidal CRS: ``<stem>.sur_refl_b0N_1.tif`` (int16)
    and ``<stem>.state_1km_1.tif`` (uint16, pixels twice the size). Returns the band 1 file."""
    for n, values in sr.items():
        write(folder / f"{stem}.sur_refl_b0{n}_1.tif", values.astype(np.int16), transform=transform, crs=SINUSOIDAL,
              nodata=-28672)
    t1km = Affine(transform.a * 2, 0, transform.c, 0, transform.e * 2, transform.f)
    write(folder / f"{stem}.state_1km_1.tif", state.astype(np.uint16), transform=t1km, crs=SINUSOIDAL)
    return folder / f"{stem}.sur_refl_b01_1.tif"


def mcd43a4(folder: Path, nbar: Mapping[int, np.ndarray], quality: Mapping[int, np.ndarray], transform: Affine,
            *, stem: str = "MCD43A4.061_{}_doy2020153_aid0001") -> Path:
    """MCD43A4 layers as AppEEARS names them: Nadir_Reflectance_BandN (int16, fill 32767) and
    BRDF_Albedo_Band_Mandatory_Quality_BandN (uint8, fill 255). Returns the band 1 file."""
    for n, values in nbar.items():
        write(folder / f"{stem.format(f'Nadir_Reflectance_Band{n}')}.tif", values.astype(np.int16),
              transform=transform, crs=SINUSOIDAL, nodata=32767)
        write(folder / f"{stem.format(f'BRDF_Albedo_Band_Mandatory_Quality_Band{n}')}.tif",
              quality[n].astype(np.uint8), transform=transform, crs=SINUSOIDAL, nodata=255)
    return folder / f"{stem.format('Nadir_Reflectance_Band1')}.tif"
