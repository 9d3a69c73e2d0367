"""Click usage errors (unknown option, missing argument, bad value) are one line on stderr, exit code 2."""

from __future__ import annotations

import subprocess
import sys

import pytest
from robust_rasters import run_cli


@pytest.mark.parametrize(("args", "message", "command"), [
    (["predict", "delta", "--foo"], "No such option '--foo'", "stfusion predict"),
    (["predict", "delta", "--overwite"], "Did you mean '--overwrite'?", "stfusion predict"),
    (["predict"], "Missing argument 'METHOD'", "stfusion predict"),
    (["predict", "delta", "--target", "t.tif", "--out", "o.tif"], "Missing option '--pair'", "stfusion predict"),
    (["predict", "delta", "--pair", "a.tif"], "'--pair' requires 2 arguments", "stfusion predict"),
    (["predict", "delta", "--pair", "a", "b", "--target", "t", "--out", "o", "--chunk", "0"],
     "Invalid value for '--chunk'", "stfusion predict"),
    (["evaluate", "t.tif"], "Missing argument 'PRED'", "stfusion evaluate"),
    (["predcit"], "No such command 'predcit'", "stfusion"),
    (["--foo"], "No such option '--foo'", "stfusion"),
])
def test_usage_errors_are_one_line(args, message, command):
    result = run_cli(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("stfusion: error: ") and message in lines[0], lines[0]
    assert lines[0].endswith(f"(see '{command} --help')"), lines[0]


def test_help_and_version_are_unchanged():
    assert run_cli("predict", "--help").stdout.startswith("Usage: stfusion predict")
    assert run_cli("--version").exit_code == 0
    bare = run_cli()
    assert "Commands:" in bare.output  # no arguments still prints the help


def test_the_console_script_prints_one_line_for_an_unknown_option():
    done = subprocess.run([sys.executable, "-c", "from stfusion.cli.main import main; main()", "predict", "delta",
                           "--foo"], capture_output=True, text=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("stfusion: error: No such option '--foo'"), done.stderr
    assert lines[0].endswith("(see 'stfusion predict --help')")
