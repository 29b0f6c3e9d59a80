from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from openmydata.sandbox.card import OVERSEAS_FEE_RATE, instalment_slice
from openmydata.sandbox.institutions import SectorName, generate_customers, is_customer
from openmydata.sandbox.population import Person
from openmydata.sandbox.timeline import Window
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.catalogue import ApiSpec, Kind, selector_key
from openmydata.standard.dataset import CustomerData, StoredRecord

from .samples import AS_OF, ORG_CODES, SEED

WINDOW = Window.ending(AS_OF)
# Fields that describe the future by nature (maturity, next due date); every other date is history.
FUTURE_FIELDS = {"exp_date", "next_repay_date", "pay_due_date"}
DATA_KINDS = {Kind.ASSET_LIST, Kind.ASSET_INFO, Kind.RECORDS}


def _records(customer: CustomerData, api_id: str) -> list[StoredRecord]:
    return [record for record in customer.records if record.api_id == api_id]


def _parse(spec: ApiSpec, payload: dict[str, Any]) -> dict[str, Any]:
    if spec.kind is Kind.ASSET_INFO:
        envelope = {"rsp_code": "00000", "rsp_msg": "정상"}
        wire = spec.response.model_validate({**payload, **envelope}).to_wire()
        return {key: value for key, value in wire.items() if key not in envelope}
    assert spec.record_model is not None
    return spec.record_model.model_validate(payload).to_wire()


def _as_date(value: str) -> date:
    return date(int(value[:4]), int(value[4:6]), int(value[6:8]) if len(value) >= 8 else 1)


def _months_after(start: str, end: str) -> int:
    return (int(end[:4]) - int(start[:4])) * 12 + int(end[4:6]) - int(start[4:6])


class TestGenerateCustomers:
    @pytest.mark.parametrize("sector", ["bank", "card", "telecom"])
    def test_every_payload_validates_against_its_catalogue_model(
        self, sample_customers: dict[SectorName, list[CustomerData]], sector: SectorName
    ) -> None:
        for customer in sample_customers[sector]:
            for record in customer.records:
                spec = CATALOGUE[record.api_id]
                assert spec.sector == sector
                assert spec.kind in DATA_KINDS
                assert _parse(spec, record.payload) == record.payload

    @pytest.mark.parametrize("sector", ["bank", "card", "telecom"])
    def test_every_catalogued_data_api_has_records(
        self, sample_customers: dict[SectorName, list[CustomerData]], sector: SectorName
    ) -> None:
        produced = {record.api_id for customer in sample_customers[sector] for record in customer.records}
        catalogued = {spec.id for spec in CATALOGUE.sector(sector) if spec.kind in DATA_KINDS}
        assert produced == catalogued

    @pytest.mark.parametrize("sector", ["bank", "card", "telecom"])
    def test_keys_are_the_selector_key_of_a_source_record(
        self, sample_customers: dict[SectorName, list[CustomerData]], sector: SectorName
    ) -> None:
        for customer in sample_customers[sector]:
            for record in customer.records:
                spec = CATALOGUE[record.api_id]
                if spec.source is None:
                    assert record.key == ""
                    continue
                candidates = [
                    source.payload
                    for source in _records(customer, spec.source.api_id)
                    if spec.source.where is None or spec.source.where(source.payload)
                ]
                keys = {
                    selector_key(
                        {field: src.get(origin) for field, origin in spec.source.fields.items()}, spec.key_fields
                    )
                    for src in candidates
                }
                assert record.key in keys, (record.api_id, record.key)

    @pytest.mark.parametrize("sector", ["bank", "card", "telecom"])
    def test_history_lies_within_the_twelve_months_up_to_as_of(
        self, sample_customers: dict[SectorName, list[CustomerData]], sector: SectorName
    ) -> None:
        for customer in sample_customers[sector]:
            for record in customer.records:
                spec = CATALOGUE[record.api_id]
                if spec.record_period_field:
                    period = record.payload[spec.record_period_field]
                elif spec.period_field:
                    period = record.period
                else:
                    period = ""
                if len(period) == 6:
                    assert (int(period[:4]), int(period[4:])) in WINDOW.months(), (record.api_id, period)
                elif period:
                    assert _as_date(period) in WINDOW, (record.api_id, period)
                for name, value in record.payload.items():
                    if name.endswith(("_date", "_dtime")) and name not in FUTURE_FIELDS and len(value) in (8, 14):
                        assert _as_date(value) <= AS_OF, (record.api_id, name, value)

    def test_asset_identifiers_are_unique_per_institution(
        self, sample_customers: dict[SectorName, list[CustomerData]]
    ) -> None:
        for sector, field in (("bank", "account_num"), ("card", "card_id"), ("telecom", "mgmt_id")):
            list_api = CATALOGUE.asset_list_api(sector).id
            ids = [r.payload[field] for c in sample_customers[sector] for r in _records(c, list_api)]
            assert len(ids) == len(set(ids))

    @pytest.mark.parametrize("sector", ["bank", "card", "telecom"])
    def test_record_keys_are_unique(
        self, sample_customers: dict[SectorName, list[CustomerData]], sector: SectorName
    ) -> None:
        for customer in sample_customers[sector]:
            seen: set[tuple[str, str, str, str]] = set()
            for record in customer.records:
                spec = CATALOGUE[record.api_id]
                natural = "|".join(str(record.payload.get(name, "")) for name in spec.record_key)
                identity = (record.api_id, record.key, record.period, natural)
                if spec.kind is Kind.ASSET_INFO:
                    assert identity not in seen
                elif spec.record_key:
                    assert identity not in seen, identity
                seen.add(identity)

    def test_customers_are_a_deterministic_subset(self, sample_people: list[Person]) -> None:
        share = {
            sector: sum(is_customer(p, sector, ORG_CODES[sector], SEED) for p in sample_people) / len(sample_people)
            for sector in ORG_CODES
        }
        assert 0.8 < share["bank"] < 0.97
        assert 0.45 < share["card"] < 0.75
        assert share["telecom"] > 0.9

    @pytest.mark.parametrize("sector", ["bank", "card", "telecom"])
    def test_same_inputs_give_identical_customers(self, sample_people: list[Person], sector: SectorName) -> None:
        def run(people: list[Person]) -> list[str]:
            customers = generate_customers(people, sector=sector, org_code=ORG_CODES[sector], seed=SEED, as_of=AS_OF)
            return [customer.model_dump_json() for customer in customers]

        small = run(sample_people[:12])
        assert small == run(sample_people[:12])
        larger = run(sample_people[:30])
        assert larger[: len(small)] == small

    def test_unknown_sector_is_refused(self, sample_people: list[Person]) -> None:
        with pytest.raises(ValueError, match="nonesuch"):
            list(generate_customers(sample_people, sector="nonesuch", org_code="X", seed=1, as_of=AS_OF))  # type: ignore[arg-type]


class TestBankData:
    def test_deposit_balances_follow_the_transactions(
        self, sample_customers: dict[SectorName, list[CustomerData]]
    ) -> None:
        checked = 0
        for customer in sample_customers["bank"]:
            details = {r.key: r.payload for r in _records(customer, "은행-003")}
            history: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for record in _records(customer, "은행-004"):
                history[record.key].append(record.payload)
            for key, detail in details.items():
                transactions = history.get(key, [])
                assert [t["trans_dtime"] for t in transactions] == sorted(t["trans_dtime"] for t in transactions)
                for previous, current in itertools.pairwise(transactions):
                    sign = -1 if current["trans_type"] == "02" else 1
                    assert Decimal(current["balance_amt"]) == Decimal(previous["balance_amt"]) + sign * Decimal(
                        current["trans_amt"]
                    )
                assert all(Decimal(t["balance_amt"]) >= 0 for t in transactions)
                if transactions:
                    assert Decimal(transactions[-1]["balance_amt"]) == Decimal(detail["balance_amt"])
                    checked += 1
        assert checked > 150

    def test_salaries_arrive_monthly_for_salaried_primary_customers(
        self, sample_customers: dict[SectorName, list[CustomerData]]
    ) -> None:
        months_with_salary = [
            len({r.payload["trans_dtime"][:6] for r in _records(c, "은행-004") if r.payload["trans_class"] == "급여"})
            for c in sample_customers["bank"]
        ]
        assert sum(1 for count in months_with_salary if count >= 12) > 50

    def test_loan_repayments_reduce_the_balance(self, sample_customers: dict[SectorName, list[CustomerData]]) -> None:
        loans = 0
        for customer in sample_customers["bank"]:
            for detail in _records(customer, "은행-009"):
                loans += 1
                repayments = [r.payload for r in _records(customer, "은행-010") if r.key == detail.key]
                for repayment in repayments:
                    assert Decimal(repayment["trans_amt"]) == Decimal(repayment["principal_amt"]) + Decimal(
                        repayment["int_amt"]
                    )
                    assert int(repayment["int_cnt"]) == len(repayment["int_list"])
                for previous, current in itertools.pairwise(repayments):
                    assert Decimal(current["balance_amt"]) == Decimal(previous["balance_amt"]) - Decimal(
                        current["principal_amt"]
                    )
                if repayments:
                    assert Decimal(repayments[-1]["balance_amt"]) == Decimal(detail.payload["balance_amt"])
                assert Decimal(detail.payload["balance_amt"]) <= Decimal(detail.payload["loan_principal"])
        assert loans > 20

    def test_loan_codes_come_from_the_code_table(self, sample_customers: dict[SectorName, list[CustomerData]]) -> None:
        types = {r.payload["account_type"] for c in sample_customers["bank"] for r in _records(c, "은행-001")}
        assert {"1001", "3100", "3220"} <= types
        assert types <= {"1001", "1002", "1003", "2001", "3100", "3150", "3170", "3220"}


class TestCardData:
    def test_bill_totals_equal_the_approvals_of_the_month(
        self, sample_customers: dict[SectorName, list[CustomerData]]
    ) -> None:
        bills_checked = 0
        for customer in sample_customers["card"]:
            credit = {r.key for r in _records(customer, "카드-002") if r.payload["card_type"] == "01"}
            domestic = [(r.key, r.payload) for r in _records(customer, "카드-008") if r.key in credit]
            overseas = [(r.key, r.payload) for r in _records(customer, "카드-009") if r.key in credit]
            details: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for record in _records(customer, "카드-005"):
                details[record.key].append(record.payload)
            for bill in _records(customer, "카드-004"):
                month = bill.payload["charge_month"]
                expected = Decimal(0)
                for _, approval in domestic:
                    if approval["status"] != "01":
                        continue
                    after = _months_after(approval["approved_dtime"][:6], month)
                    amount = int(approval["approved_amt"])
                    if "total_install_cnt" not in approval:
                        expected += amount if after == 1 else 0
                    elif 1 <= after <= int(approval["total_install_cnt"]):
                        principal, fee, _ = instalment_slice(amount, int(approval["total_install_cnt"]), after)
                        expected += principal + fee
                for _, approval in overseas:
                    if _months_after(approval["approved_dtime"][:6], month) == 1:
                        krw = int(approval["krw_amt"])
                        expected += krw + round(krw * OVERSEAS_FEE_RATE)
                lines = details[f"{bill.payload['seqno']}|{month}"]
                assert Decimal(bill.payload["charge_amt"]) == expected
                assert Decimal(bill.payload["charge_amt"]) == sum(
                    Decimal(line["paid_amt"]) + Decimal(line["credit_fee_amt"]) for line in lines
                )
                assert bill.payload["paid_out_date"] >= f"{month}{bill.payload['charge_day']}"
                bills_checked += 1
        assert bills_checked > 500

    def test_loan_flags_match_the_loan_records(self, sample_customers: dict[SectorName, list[CustomerData]]) -> None:
        for customer in sample_customers["card"]:
            (flags,) = _records(customer, "카드-010")
            assert (flags.payload["is_loan_revolving"] == "true") == bool(_records(customer, "카드-007"))
            assert (flags.payload["is_loan_short_term"] == "true") == bool(_records(customer, "카드-011"))
            assert (flags.payload["is_loan_long_term"] == "true") == bool(_records(customer, "카드-012"))

    def test_thin_file_customers_hold_one_check_card(
        self, sample_people: list[Person], sample_customers: dict[SectorName, list[CustomerData]]
    ) -> None:
        thin = {p.ci for p in sample_people if p.thin_file}
        for customer in sample_customers["card"]:
            if customer.ci in thin:
                assert [r.payload["card_type"] for r in _records(customer, "카드-002")] == ["02"]
                assert not _records(customer, "카드-004")


class TestTelecomData:
    def test_bills_cover_every_line_every_month(self, sample_customers: dict[SectorName, list[CustomerData]]) -> None:
        for customer in sample_customers["telecom"]:
            lines = {r.payload["mgmt_id"] for r in _records(customer, "통신-001")}
            bills = _records(customer, "통신-002")
            assert len(bills) == 12 * len(lines)
            assert {b.payload["mgmt_id"] for b in bills} == lines
            assert len({b.period for b in bills}) == 12

    def test_micro_payments_are_billed_the_next_month(
        self, sample_customers: dict[SectorName, list[CustomerData]]
    ) -> None:
        checked = 0
        for customer in sample_customers["telecom"]:
            main = _records(customer, "통신-001")[0].payload["mgmt_id"]
            bills = {
                b.period: Decimal(b.payload["charge_amt"])
                for b in _records(customer, "통신-002")
                if b.payload["mgmt_id"] == main
            }
            spent: dict[str, Decimal] = defaultdict(Decimal)
            for record in _records(customer, "통신-004"):
                spent[record.payload["trans_date"][:6]] += Decimal(record.payload["trans_amt"])
            for month, amount in spent.items():
                following = f"{int(month[:4]) + int(month[4:]) // 12}{int(month[4:]) % 12 + 1:02d}"
                if following in bills:
                    assert bills[following] >= amount
                    checked += 1
        assert checked > 50
