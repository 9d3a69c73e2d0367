"""Fusion-quality metrics: pixel errors, SSIM/UIQI, SAM/RASE/ERGAS, Q2ⁿ and APA, and `evaluate`.

Array functions take ``truth`` and ``pred`` as (bands, rows, cols) arrays and an optional
``mask`` (rows, cols), True = valid; pixels that are non-finite in either image are left out.
The difference is ``pred - truth``. Conventions and formulas: docs/metrics.md.
"""

from .apa import APAResult, apa
from .diagram import AD_CLASSES, ad_class, apa_diagram
from .evaluate import METRICS, EvaluationReport, evaluate
from .hypercomplex import cayley_dickson_product, q2n
from .pixelwise import bias, cc, mae, psnr, rmse
from .spectral import ergas, ergas_ratio, rase, sam
from .structural import ssim, uiqi

__all__ = [
    "APAResult", "apa", "AD_CLASSES", "ad_class", "apa_diagram", "METRICS", "EvaluationReport",
    "evaluate", "cayley_dickson_product", "q2n", "bias", "cc", "mae", "psnr", "rmse", "ergas",
    "ergas_ratio", "rase", "sam", "ssim", "uiqi",
]
