from __future__ import annotations

import json
from pathlib import Path

import pytest

from openmydata.sandbox.generate import load_people, people_for_certauth, write_dataset
from openmydata.sandbox.population import generate_people
from openmydata.standard.dataset import load_lines

from .samples import AS_OF, SEED

INSTITUTIONS = [("bank", "BANKSBX001"), ("card", "CARDSBX001"), ("telecom", "TELCOSBX01")]


class TestWriteDataset:
    def test_writes_people_and_one_file_per_institution(self, tmp_path: Path) -> None:
        calls: list[tuple[str, int, int]] = []
        summary = write_dataset(tmp_path, 25, SEED, AS_OF, INSTITUTIONS, progress=lambda *call: calls.append(call))
        assert sorted(p.name for p in tmp_path.iterdir()) == [
            "BANKSBX001.jsonl",
            "CARDSBX001.jsonl",
            "TELCOSBX01.jsonl",
            "manifest.json",
            "people.jsonl",
        ]
        assert load_people(tmp_path / "people.jsonl") == generate_people(25, SEED, AS_OF)
        for institution in summary.institutions:
            with (tmp_path / institution.file).open(encoding="utf-8") as handle:
                customers = list(load_lines(handle))
            assert len(customers) == institution.customers
            assert sum(len(c.records) for c in customers) == institution.records
        manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["people"] == 25
        assert manifest["as_of"] == AS_OF.isoformat()
        finals = {description: (done, total) for description, done, total in calls}
        assert finals == {
            "people": (25, 25),
            "bank BANKSBX001": (25, 25),
            "card CARDSBX001": (25, 25),
            "telecom TELCOSBX01": (25, 25),
        }

    def test_same_arguments_give_byte_identical_files(self, tmp_path: Path) -> None:
        write_dataset(tmp_path / "a", 15, SEED, AS_OF, INSTITUTIONS)
        write_dataset(tmp_path / "b", 15, SEED, AS_OF, INSTITUTIONS)
        for path in (tmp_path / "a").iterdir():
            assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes()

    def test_rejects_a_repeated_org_code(self, tmp_path: Path) -> None:
        with pytest.raises(ValueError, match="org_code"):
            write_dataset(tmp_path, 3, SEED, AS_OF, [("bank", "BANKSBX001"), ("card", "BANKSBX001")])

    def test_rejects_an_invalid_org_code(self, tmp_path: Path) -> None:
        with pytest.raises(ValueError, match="org_code"):
            write_dataset(tmp_path, 3, SEED, AS_OF, [("bank", "BANK-1")])


class TestPeopleForCertauth:
    def test_is_the_admin_persons_body(self) -> None:
        people = generate_people(3, SEED, AS_OF)
        body = people_for_certauth(people)
        assert list(body) == ["persons"]
        assert [set(entry) for entry in body["persons"]] == [{"ci", "name", "birth_date", "phone", "pin"}] * 3
        assert body["persons"][0] == {
            "ci": people[0].ci,
            "name": people[0].name,
            "birth_date": people[0].birth_date,
            "phone": people[0].phone,
            "pin": people[0].pin,
        }
        json.dumps(body, ensure_ascii=False)
