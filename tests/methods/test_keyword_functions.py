"""Each classical method's keyword function (``stfusion.methods.classical.fsdaf.fsdaf(task, ...)``
and the like) takes exactly the parameters of its dataclass, with the same defaults, so a default
written twice cannot drift."""

from __future__ import annotations

import dataclasses
import importlib
import inspect

import pytest

from stfusion.core.registry import get_spec

# (method, module, function): the keyword functions of the classical STF methods and the baselines
FUNCTIONS = [(m, f"stfusion.methods.classical.{m}", m) for m in ("starfm", "estarfm", "ubdf", "fsdaf", "fitfc", "spstfm")]
FUNCTIONS += [("delta", "stfusion.methods.baselines", "delta"), ("nochange", "stfusion.methods.baselines", "nochange")]
RUN_OPTIONS = {"task", "classes", "threads", "workers"}
"""Arguments of a run rather than of the method."""


@pytest.mark.parametrize("method,module,name", FUNCTIONS, ids=[f[0] for f in FUNCTIONS])
def test_keyword_function_defaults_are_the_dataclass_defaults(method, module, name):
    function = getattr(importlib.import_module(module), name)
    spec = get_spec(method)
    fields = {f.name: f.default for f in dataclasses.fields(spec.params)}
    args = {k: p.default for k, p in inspect.signature(function).parameters.items() if k not in RUN_OPTIONS}
    assert args == fields
