"""docs/standard-coverage.md is generated from the catalogue and must be current."""

from __future__ import annotations

from pathlib import Path

import pytest

from openmydata.standard import coverage
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.catalogue import Catalogue

DOC = Path(__file__).resolve().parents[3] / "docs" / "standard-coverage.md"


class TestCoverageDocument:
    def test_committed_file_is_current(self) -> None:
        assert coverage.DOC_PATH == DOC
        assert DOC.read_text(encoding="utf-8") == coverage.render(CATALOGUE), (
            "docs/standard-coverage.md is stale: run python -m openmydata.standard.coverage --write"
        )

    def test_every_api_of_every_profile_has_a_row_and_every_note_is_listed(self) -> None:
        text = coverage.render(CATALOGUE)
        every = CATALOGUE.every_profile()
        assert len(every) > len(CATALOGUE)  # the nationwide telecom APIs are listed beside the financial ones
        for spec in every:
            assert f"| {spec.id} | {spec.title} | {spec.api_code} | {spec.method} | `{spec.path}` |" in text
            if spec.note:
                assert f"- **{spec.id}** ({spec.api_code}" in text
        readings = text.split("## Project readings", 1)[1]
        assert readings.count("\n- **") == sum(1 for spec in every if spec.note)

    def test_sections_follow_the_sectors_then_the_other_profiles(self) -> None:
        text = coverage.render(CATALOGUE)
        assert text.index("## Bank (은행)") < text.index("## Card (카드)") < text.index("## Telecom (통신)")
        assert text.index("## Telecom (통신)") < text.index("## Nationwide standard, telecom")
        assert f"| **Total** | {len(CATALOGUE.every_profile())} |" in text
        nationwide = text.split("## Nationwide standard, telecom", 1)[1].split("\n## ", 1)[0]
        assert "| 통신(전국)-001 |" in nationwide
        assert "| 통신-001 |" not in nationwide

    def test_pipes_in_notes_are_escaped(self) -> None:
        spec = CATALOGUE["카드-001"]
        from dataclasses import replace

        text = coverage.render(Catalogue([replace(spec, note="a | b")]))
        assert "a \\| b" in text
        assert "None." not in text
        assert "None." in coverage.render(Catalogue([replace(spec, note="")]))


class TestCommandLine:
    def test_write_then_check(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        path = tmp_path / "docs" / "coverage.md"
        assert coverage.main(["--check", "--path", str(path)]) == 1
        assert coverage.main(["--write", "--path", str(path)]) == 0
        assert path.read_text(encoding="utf-8") == coverage.render(CATALOGUE)
        assert coverage.main(["--check", "--path", str(path)]) == 0
        path.write_text(path.read_text(encoding="utf-8") + "edited\n", encoding="utf-8")
        assert coverage.main(["--check", "--path", str(path)]) == 1
        assert "stale" in capsys.readouterr().err

    def test_an_action_is_required(self) -> None:
        with pytest.raises(SystemExit):
            coverage.main([])
