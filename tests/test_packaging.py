"""The wheel: built from a copy of the source tree, it holds every module and py.typed and nothing
else, declares every package it imports, and runs (`stfusion methods`, a small `stfusion demo`)
when installed without ``-e`` into a fresh virtual environment, from outside the checkout, with
the optional extras blocked.

The virtual environment sees this interpreter's site-packages for the dependencies (a clean one
would download them), but not this checkout: the cwd is elsewhere and the editable install's .pth
is not run. What that cannot prove (that the wheel needs nothing undeclared) is checked by reading
the wheel: its file list (every module of ``src/stfusion``) and its imports (each a core
dependency, or an extra's imported inside a function). About 20 s.
"""

from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from test_layers import _import_time_nodes

pytestmark = pytest.mark.timeout(180)

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "stfusion"
MAX_WHEEL_BYTES = 1_000_000
"""The wheel is about 0.45 MB of Python sources; twice that means data files crept in."""
TORCH_PACKAGES = ("stfusion/methods/deep/nets/", "stfusion/embed/nets/")
"""torch at module level is allowed here (tests/test_layers.py checks these are imported lazily)."""


def _copy_source(dest: Path) -> None:
    """pyproject.toml, README.md and src/ as they are (caches included, so strays would show), no egg-info."""
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(ROOT / "src", dest / "src", ignore=shutil.ignore_patterns("*.egg-info"))


def _offline_build() -> bool:
    """Whether setuptools >= 68 (the build requirement; in the test extra) is installed here."""
    try:
        return int(importlib.metadata.version("setuptools").split(".")[0]) >= 68
    except importlib.metadata.PackageNotFoundError:
        return False


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    source, dist = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("dist")
    _copy_source(source)
    # with setuptools installed, no build isolation: nothing is downloaded; else pip fetches it
    offline = _offline_build()
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(source),
                           *(["--no-build-isolation"] if offline else [])],
                          cwd=source, capture_output=True, text=True, timeout=180)
    if done.returncode and not offline:
        pytest.skip(f"cannot build the wheel: setuptools>=68 is not installed and pip could not fetch it "
                    f"({done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode})")
    assert done.returncode == 0, done.stderr
    (built,) = dist.glob("stfusion-*.whl")
    return built


def _names(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as z:
        return z.namelist()


def _metadata(wheel: Path) -> tuple[set[str], dict[str, set[str]]]:
    """(core distribution names, {extra: distribution names}) of the wheel's METADATA."""
    with zipfile.ZipFile(wheel) as z:
        (meta,) = [n for n in z.namelist() if n.endswith(".dist-info/METADATA")]
        lines = z.read(meta).decode().splitlines()
    core: set[str] = set()
    extras: dict[str, set[str]] = {}
    for line in lines:
        if line.startswith("Provides-Extra: "):
            extras.setdefault(line.split(": ", 1)[1].strip(), set())
        elif line.startswith("Requires-Dist: "):
            spec = line.split(": ", 1)[1]
            name = _normal(re.match(r"[A-Za-z0-9._-]+", spec).group())
            extra = re.search(r"extra == ['\"]([^'\"]+)['\"]", spec)
            (extras.setdefault(extra.group(1), set()) if extra else core).add(name)
    return core, extras


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_wheel_holds_every_module_and_py_typed(wheel):
    names = set(_names(wheel))
    sources = {p.relative_to(PACKAGE.parent).as_posix() for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts}
    assert sources - names == set()
    assert "stfusion/py.typed" in names
    for package in ("stfusion/xarray/", "stfusion/io/products/", "stfusion/core/params/", "stfusion/embed/nets/",
                    "stfusion/methods/deep/nets/", "stfusion/methods/classical/"):
        assert any(n.startswith(package) and n.endswith(".py") for n in names), package


def test_the_wheel_is_small_and_holds_only_code(wheel):
    names = _names(wheel)
    stray = [n for n in names if ".dist-info/" not in n and not (n.endswith(".py") or n == "stfusion/py.typed")]
    assert stray == []  # no caches, compiled Numba kernels, data, tests or docs
    assert {n.split("/")[0] for n in names} == {"stfusion", wheel.name.split("-py3")[0] + ".dist-info"}
    assert wheel.stat().st_size < MAX_WHEEL_BYTES


def test_the_heavy_optional_packages_are_extras(wheel):
    core, extras = _metadata(wheel)
    assert {"h5py", "pyrsr", "torch", "distributed", "rioxarray", "pyogrio", "zarr", "pystac"}.isdisjoint(core)
    assert "matplotlib" in core  # the first command's `stfusion demo` draws its quick-looks with it
    assert extras["plot"] == {"matplotlib"} and extras["mat73"] == {"h5py"} and extras["srf"] == {"pyrsr"}
    assert {"h5py", "pyrsr"} <= extras["test"]


def _imports(source: str) -> list[tuple[str, bool]]:
    """(top-level package, imported when the module is) of each import statement, plus the modules
    named to ``require(...)``/``import_module(...)`` as (package, False)."""
    tree = ast.parse(source)
    at_import = _import_time_nodes(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name.split(".")[0], id(node) in at_import) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.append((node.module.split(".")[0], id(node) in at_import))
        elif isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in (
                "require", "import_module") and node.args and isinstance(node.args[0], ast.Constant):
            found.append((str(node.args[0].value).split(".")[0], False))
    return found


def _distribution(package: str, known: dict[str, list[str]]) -> str:
    """The distribution that installs import package ``package`` (itself where it is not installed here)."""
    names = [_normal(d) for d in known.get(package, [package])]
    return _normal(package) if _normal(package) in names else names[0]


def test_every_import_is_a_declared_dependency(wheel):
    """Module-level imports are core dependencies (torch only in the network packages); the rest
    are core or an extra's; every ``require(module, extra)`` names an extra that installs it."""
    core, extras = _metadata(wheel)
    declared = core | set().union(*extras.values())
    known = importlib.metadata.packages_distributions()
    missing, eager, wrong_extra = [], [], []
    with zipfile.ZipFile(wheel) as z:
        for name in z.namelist():
            if not name.endswith(".py"):
                continue
            source = z.read(name).decode()
            for package, at_import in _imports(source):
                if package in sys.stdlib_module_names or package in ("stfusion", "__future__"):
                    continue
                dist = _distribution(package, known)
                if dist not in declared:
                    missing.append(f"{name}: {package}")
                elif at_import and dist not in core and not (dist == "torch" and name.startswith(TORCH_PACKAGES)):
                    eager.append(f"{name}: {package}")
            for module, extra in re.findall(r"require\(\s*['\"]([\w.]+)['\"]\s*,\s*['\"](\w+)['\"]", source):
                if _distribution(module.split(".")[0], known) not in extras.get(extra, set()):
                    wrong_extra.append(f"{name}: require({module!r}, {extra!r})")
    assert missing == [] and eager == [] and wrong_extra == []


BLOCKER = """\
import sys

BLOCKED = {blocked!r}


class BlockExtras:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked by the packaging test)", name=name)
        return None


sys.meta_path.insert(0, BlockExtras())
"""

DEMO = """\
import sys
import stfusion.bench.demo as demo

demo._torch_missing = lambda: True  # with torch blocked, importlib.util.find_spec raises instead of returning None

# a small demo: tiny scenes, and of the methods only those below (the whole demo takes about a minute)
tiny = demo.DemoSettings(stf_size=64, hs_size=36, hs_bands=16, deep=())
plan = demo._plan
demo.DemoSettings = lambda: tiny
demo._plan = lambda settings, torch: [r for r in plan(settings, torch)
                                      if r.method in ("nochange", "delta", "starfm", "bicubic", "gsa", "cascade")]
from stfusion.cli.main import main

sys.argv = ["stfusion", "demo", "--out", sys.argv[1]]
main()
"""


def _site_dirs() -> list[str]:
    """This interpreter's site-packages (a venv's or the base one's) where the dependencies live."""
    import site

    dirs = [*site.getsitepackages(), *([site.getusersitepackages()] if site.ENABLE_USER_SITE else [])]
    return [d for d in dirs if Path(d).is_dir() and not Path(d).resolve().is_relative_to(ROOT)]


def test_the_installed_wheel_runs_outside_the_checkout(wheel, tmp_path):
    core, extras = _metadata(wheel)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python, script = venv / "bin" / "python", venv / "bin" / "stfusion"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               check=True, capture_output=True, text=True).stdout.strip())
    # the dependencies (and pip) are this interpreter's, seen after the venv's own site-packages; the
    # lines are plain paths, so their .pth files (this checkout's editable install) are not run
    (site / "_this_env.pth").write_text("".join(f"{p}\n" for p in _site_dirs()))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    env.update(PYTHONNOUSERSITE="1", OMP_NUM_THREADS="1")
    # --ignore-installed: this environment's stfusion (the editable one) is neither kept nor uninstalled
    subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed", "-q",
                    str(wheel)], check=True, capture_output=True, env=env, timeout=120)
    # every extra's package (none is a core one but matplotlib) fails to import, as if not installed
    blocked = sorted(set().union(*(v for k, v in extras.items() if k != "test")) - core)
    (site / "_block_extras.py").write_text(BLOCKER.format(blocked=blocked))
    (site / "_block_extras.pth").write_text("import _block_extras\n")
    work = tmp_path / "elsewhere"  # the cwd is outside the checkout, so src/ cannot be imported from it
    work.mkdir()

    def run(*args: str) -> str:
        done = subprocess.run(args, cwd=work, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert Path(run(str(python), "-c", "import stfusion; print(stfusion.__file__)").strip()).is_relative_to(site)
    assert "torch" in blocked and "h5py" in blocked and "pyrsr" in blocked
    listed = run(str(script), "methods")
    assert all(name in listed for name in ("starfm", "fsdaf", "cascade", "dcstsf"))
    assert "--overwrite" in run(str(script), "demo", "--help")
    (work / "demo.py").write_text(DEMO)
    run(str(python), "demo.py", "out")
    written = sorted(p.name for p in (work / "out").iterdir())
    assert {"metrics.csv", "summary.md", "predictions", "quicklook-stsf.png"} <= set(written)
    assert any(n.startswith("quicklook") and n != "quicklook-stsf.png" for n in written)
    assert "PyTorch is not installed" in (work / "out" / "summary.md").read_text()
