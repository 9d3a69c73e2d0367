import dataclasses

import pytest

from stfusion.core import REGISTRY, UnknownMethodError, UnknownParameterError, get_spec, list_methods
from stfusion.core.blockwise import BlockwiseMethod
from stfusion.core.errors import InvalidParameterError


def test_every_spec_module_exists_and_has_predict():
    for spec in REGISTRY.values():
        assert callable(spec.load().predict), spec.name
        assert dataclasses.is_dataclass(spec.params)
        assert spec.halo(spec.params(), 30.0) >= 0


def test_names_are_lower_case_and_lookup_is_case_insensitive():
    assert all(name == name.lower() for name in REGISTRY)
    assert get_spec("DELTA") is REGISTRY["delta"]


def test_unknown_method_suggests_the_closest_or_lists_known_ones():
    with pytest.raises(UnknownMethodError, match=r"unknown method 'starfmm' \(did you mean 'starfm'\?\); all methods"):
        get_spec("starfmm")
    with pytest.raises(UnknownMethodError, match="known methods: .*delta"):
        get_spec("xyz")
    with pytest.raises(UnknownParameterError, match=r"no parameter 'stage' \(did you mean 'stages'\?\); valid"):
        get_spec("dcstsf").make_params({"stage": 2})


def test_params_parse_strings_and_reject_unknown_keys():
    spec = get_spec("delta")
    assert spec.make_params({"power": "2"}).power == 2.0
    with pytest.raises(UnknownParameterError, match="valid parameters: power"):
        spec.make_params({"powr": "2"})
    with pytest.raises(UnknownParameterError, match="not a valid float"):
        spec.make_params({"power": "abc"})


def test_params_are_frozen():
    p = get_spec("delta").make_params()
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.power = 3  # type: ignore[misc]


def test_list_methods_filters_by_task():
    assert {s.name for s in list_methods("stf")} >= {"nochange", "delta"}
    assert all(s.task == "stsf" for s in list_methods("stsf"))


def test_a_method_that_cannot_run_block_by_block_is_refused_in_one_line():
    spec = dataclasses.replace(get_spec("gsa"), blockwise=False)
    with pytest.raises(InvalidParameterError, match="^gsa cannot run block by block; run it without chunk=N$"):
        spec.blockwise_module()
    assert isinstance(get_spec("cnmf").blockwise_module(), BlockwiseMethod)
