"""`openmydata conformance demo` refuses a folder that holds an earlier run (its databases and keys would be mixed
with the new ecosystem's) before starting anything."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from openmydata.cli import app


def test_a_non_empty_data_dir_is_refused(tmp_path: Path) -> None:
    (tmp_path / "operator.db").write_bytes(b"earlier run")
    # wide enough that the error box does not wrap the message (tmp_path is long under pytest-xdist)
    wide = {"COLUMNS": "400", "TERMINAL_WIDTH": "400"}
    result = CliRunner().invoke(app, ["conformance", "demo", "--json", "--data-dir", str(tmp_path)], env=wide)
    assert result.exit_code == 2
    assert "is not empty" in result.output
    assert [path.name for path in tmp_path.iterdir()] == ["operator.db"]
