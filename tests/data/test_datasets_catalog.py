"""The data-set catalogue: names, the data root (argument, STFUSION_DATA, default) and its errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from stfusion.core.errors import FileFormatError, UnknownParameterError
from stfusion.data.catalog import CATALOGUE, DATASETS, INFO, load_case, load_dataset
from stfusion.data.data_root import DATA_ENV, DEFAULT_ROOT, data_root

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
README_FOLDERS = {
    "cia_2date", "estarfm_3date", "lgc_flood_simcoarse", "ifsdaf_ndvi_series", "hs_samson_jasper",
    "ts_presto", "ts_eolearn_ndvi", "ts_fusets_field",
}


def test_catalogue_names():
    assert list(DATASETS) == [i.name for i in CATALOGUE] == list(INFO)
    assert {"cia_2date", "estarfm_3date", "estarfm_3date_1pair", "lgc_flood_simcoarse", "ifsdaf_ndvi_series",
            "hs_samson", "hs_jasper", "stsf_samson", "stsf_jasper", "stsf_samson_blind", "stsf_jasper_blind",
            "ts_presto_algae", "ts_presto_fuel", "ts_eolearn_ndvi",
            "ts_fusets_field"} == set(DATASETS)
    assert {i.kind for i in CATALOGUE} == {"stf", "stf_series", "hs", "stsf", "ts"}


def test_default_root_is_beside_the_checkout(monkeypatch):
    monkeypatch.delenv(DATA_ENV, raising=False)
    assert DEFAULT_ROOT == SHARED_DATA
    assert data_root() == SHARED_DATA
    monkeypatch.setenv(DATA_ENV, "/somewhere/else")
    assert str(data_root()) == "/somewhere/else"
    assert str(data_root("/given")) == "/given"


def test_unknown_name_lists_the_names():
    with pytest.raises(UnknownParameterError, match="unknown dataset 'cia'.*cia_2date.*ts_fusets_field"):
        load_dataset("cia")
    with pytest.raises(UnknownParameterError, match="unknown dataset"):
        load_case("nope")


def test_missing_root_says_where_it_looked_and_how_to_fix(tmp_path, monkeypatch):
    missing = tmp_path / "no_such_folder"
    with pytest.raises(FileFormatError, match=f"{missing}.*{DATA_ENV}"):
        load_dataset("cia_2date", missing)
    monkeypatch.setenv(DATA_ENV, str(missing))
    with pytest.raises(FileFormatError, match=f"not found: {missing}"):
        load_dataset("lgc_flood_simcoarse")


def test_missing_dataset_folder(tmp_path):
    with pytest.raises(FileFormatError, match=f"{tmp_path / 'cia_2date'}.*{DATA_ENV}"):
        load_dataset("cia_2date", tmp_path)


@pytest.mark.realdata
def test_every_readme_folder_has_a_loader(shared_data):
    folders = {p.name for p in shared_data.iterdir() if p.is_dir()}
    assert README_FOLDERS <= folders


@pytest.mark.realdata
def test_env_var_selects_the_root(shared_data, monkeypatch):
    monkeypatch.setenv(DATA_ENV, str(shared_data))
    assert load_dataset("estarfm_3date_1pair").truth.shape == (3, 400, 400)


@pytest.mark.realdata
def test_load_case_refuses_non_fusion_sets(shared_data):
    with pytest.raises(UnknownParameterError, match="not a fusion data set.*cia_2date"):
        load_case("hs_samson", shared_data)


@pytest.mark.realdata
def test_missing_file_in_a_dataset_folder(shared_data, tmp_path):
    (tmp_path / "cia_2date").mkdir()
    for name in ("CIA_L7_20011125.tif", "CIA_MOD09GA_20011125.tif"):
        (tmp_path / "cia_2date" / name).symlink_to(shared_data / "cia_2date" / name)
    with pytest.raises(FileFormatError, match="CIA_MOD09GA_20020112"):
        load_dataset("cia_2date", tmp_path)
