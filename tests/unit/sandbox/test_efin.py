"""The e-finance sandbox: customers of a pay app, their prepaid means, top-ups, transactions and payments."""

from __future__ import annotations

import dataclasses
import itertools
from collections import defaultdict
from datetime import date
from typing import Any

import pytest

from openmydata.sandbox import efin
from openmydata.sandbox.institutions import SECTORS, customer_lines, generate_customers, is_customer
from openmydata.sandbox.population import Person, generate_people
from openmydata.sandbox.timeline import Window
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.catalogue import Kind, selector_key
from openmydata.standard.dataset import CustomerData, StoredRecord, dump_lines

SEED = 20240917
AS_OF = date(2025, 6, 30)
ORG = "E1SBXA0000"
WINDOW = Window.ending(AS_OF)
FUTURE_FIELDS = {"exp_date", "next_repay_date"}
DATA_KINDS = {Kind.ASSET_LIST, Kind.ASSET_INFO, Kind.RECORDS}
SIGN = {"01": 1, "03": 1, "05": 1, "07": 1, "02": -1, "04": -1, "06": -1}


@pytest.fixture(scope="module")
def people() -> list[Person]:
    return generate_people(260, SEED, AS_OF)


@pytest.fixture(scope="module")
def customers(people: list[Person]) -> list[CustomerData]:
    return list(generate_customers(people, sector="efin", org_code=ORG, seed=SEED, as_of=AS_OF, validate=True))


def _records(customer: CustomerData, api_id: str) -> list[StoredRecord]:
    return [record for record in customer.records if record.api_id == api_id]


def _by_key(customer: CustomerData, api_id: str) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in _records(customer, api_id):
        grouped[record.key].append(record.payload)
    return grouped


def _as_date(value: str) -> date:
    return date(int(value[:4]), int(value[4:6]), int(value[6:8]))


class TestGeneratedRecords:
    def test_the_sector_is_generated(self, customers: list[CustomerData]) -> None:
        assert "efin" in SECTORS
        assert len(customers) > 60

    def test_every_payload_is_the_wire_form_of_its_model(self, customers: list[CustomerData]) -> None:
        for customer in customers:
            for record in customer.records:
                spec = CATALOGUE[record.api_id]
                assert spec.sector == "efin"
                assert spec.kind in DATA_KINDS
                if spec.kind is Kind.ASSET_INFO:
                    wire = spec.response.model_validate({**record.payload, "rsp_code": "00000", "rsp_msg": "-"})
                    parsed = {k: v for k, v in wire.to_wire().items() if k not in {"rsp_code", "rsp_msg"}}
                else:
                    assert spec.record_model is not None
                    parsed = spec.record_model.model_validate(record.payload).to_wire()
                assert parsed == record.payload

    def test_every_catalogued_data_api_has_records(self, customers: list[CustomerData]) -> None:
        produced = {record.api_id for customer in customers for record in customer.records}
        assert produced == {spec.id for spec in CATALOGUE.sector("efin") if spec.kind in DATA_KINDS}

    def test_keys_are_the_selector_key_of_a_source_record(self, customers: list[CustomerData]) -> None:
        for customer in customers:
            keys: dict[str, set[str]] = {}
            for record in customer.records:
                spec = CATALOGUE[record.api_id]
                if spec.source is None:
                    assert record.key == ""
                    continue
                if spec.id not in keys:
                    keys[spec.id] = {
                        selector_key({f: src.payload.get(o) for f, o in spec.source.fields.items()}, spec.key_fields)
                        for src in _records(customer, spec.source.api_id)
                    }
                assert record.key in keys[spec.id], (record.api_id, record.key)

    def test_history_lies_within_the_window(self, customers: list[CustomerData]) -> None:
        checked = 0
        for customer in customers:
            for record in customer.records:
                spec = CATALOGUE[record.api_id]
                if spec.record_period_field:
                    assert _as_date(record.payload[spec.record_period_field]) in WINDOW
                    checked += 1
                for name, value in record.payload.items():
                    if name.endswith(("_date", "_dtime")) and name not in FUTURE_FIELDS:
                        assert _as_date(value) <= AS_OF
        assert checked > 1000

    def test_record_keys_and_asset_identifiers_are_unique(self, customers: list[CustomerData]) -> None:
        for customer in customers:
            seen: set[tuple[str, str, str]] = set()
            for record in customer.records:
                spec = CATALOGUE[record.api_id]
                natural = "|".join(str(record.payload.get(name, "")) for name in spec.record_key)
                identity = (record.api_id, record.key, natural)
                assert identity not in seen, identity
                seen.add(identity)
        for api_id, field in (("전금-001", "fob_id"), ("전금-101", "sub_key")):
            ids = [r.payload[field] for c in customers for r in _records(c, api_id)]
            assert len(ids) == len(set(ids))

    def test_fast_output_and_lines_equal_the_validated_output(self, people: list[Person]) -> None:
        kwargs: dict[str, Any] = {"sector": "efin", "org_code": ORG, "seed": SEED, "as_of": AS_OF}
        strict = list(generate_customers(people[:70], validate=True, **kwargs))
        fast = list(generate_customers(people[:70], **kwargs))
        assert strict
        assert [c.model_dump_json() for c in fast] == [c.model_dump_json() for c in strict]
        lines = [line.decode("utf-8") for line, _ in customer_lines(people[:70], **kwargs)]
        assert lines == list(dump_lines(strict))

    def test_same_inputs_give_the_same_customers_whatever_the_population(self, people: list[Person]) -> None:
        def run(group: list[Person]) -> list[str]:
            found = generate_customers(group, sector="efin", org_code=ORG, seed=SEED, as_of=AS_OF)
            return [customer.model_dump_json() for customer in found]

        small = run(people[:15])
        assert small == run(people[:15])
        assert run(people[:40])[: len(small)] == small
        other = list(generate_customers(people[:40], sector="efin", org_code="E1SBXB0000", seed=SEED, as_of=AS_OF))
        assert [c.model_dump_json() for c in other] != run(people[:40])


class TestShare:
    def test_younger_people_use_pay_apps_more(self, people: list[Person]) -> None:
        person = people[0]
        shares = [efin.share(dataclasses.replace(person, age=age)) for age in (20, 30, 45, 60, 75)]
        assert shares == sorted(shares, reverse=True)
        assert shares[0] > 0.5
        assert shares[-1] <= 0.1

    def test_customers_are_younger_than_the_population(self, people: list[Person]) -> None:
        chosen = [p for p in people if is_customer(p, "efin", ORG, SEED)]
        assert 0.25 < len(chosen) / len(people) < 0.6
        assert sum(p.age for p in chosen) / len(chosen) < sum(p.age for p in people) / len(people) - 3


class TestPrepaid:
    def test_balances_are_the_running_sum_of_the_transactions(self, customers: list[CustomerData]) -> None:
        chains = 0
        for customer in customers:
            balances = {r.key: r.payload for r in _records(customer, "전금-002")}
            for key, transactions in _by_key(customer, "전금-004").items():
                assert [t["trans_dtime"] for t in transactions] == sorted(t["trans_dtime"] for t in transactions)
                for before, after in itertools.pairwise(transactions):
                    change = SIGN[after["trans_type"]] * int(after["trans_amt"])
                    assert int(before["balance_amt"]) + change == int(after["balance_amt"]), after
                assert int(transactions[-1]["balance_amt"]) == int(balances[key]["total_balance_amt"])
                chains += 1
        assert chains > 50

    def test_balance_parts_and_limits(self, customers: list[CustomerData]) -> None:
        for customer in customers:
            fobs = {r.payload["fob_id"]: r.payload for r in _records(customer, "전금-001")}
            for record in _records(customer, "전금-002"):
                balance = {name: int(value) for name, value in record.payload.items()}
                fob = fobs[record.key]
                assert balance["total_balance_amt"] == balance["charge_balance_amt"] + balance["reserve_balance_amt"]
                assert min(balance.values()) >= 0
                assert balance["total_balance_amt"] <= int(fob["limit_amt"])
                expected = balance["charge_balance_amt"] if fob["is_withdrawable"] == "true" else 0
                assert balance["withdrawable_amt"] == expected
            for transactions in _by_key(customer, "전금-004").values():
                assert all(0 <= int(t["balance_amt"]) <= int(efin.MONEY_LIMIT) for t in transactions)

    def test_automatic_top_ups_exist_exactly_for_fobs_flagged_is_charge(self, customers: list[CustomerData]) -> None:
        flagged = 0
        for customer in customers:
            charges = _by_key(customer, "전금-003")
            for record in _records(customer, "전금-001"):
                fob = record.payload
                assert (fob["is_charge"] == "true") == (fob["fob_id"] in charges)
                flagged += fob["is_charge"] == "true"
            for settings in charges.values():
                assert [s["auto_charge_seq"] for s in settings] == [str(n) for n in range(1, len(settings) + 1)]
                for setting in settings:
                    assert setting["charge_option"] in efin.CODES["charge_option"]
                    assert ("charge_day" in setting) == (setting["charge_option"] == "01")
                    assert ("charge_base_amt" in setting) == (setting["charge_option"] == "02")
        assert flagged > 10

    def test_top_ups_and_withdrawals_name_the_linked_bank_account(self, customers: list[CustomerData]) -> None:
        for customer in customers:
            accounts = {
                (m["pay_org_code"], m["pay_id"])
                for methods in _by_key(customer, "전금-102").values()
                for m in methods
                if m["pay_type"] == "01"
            }
            for transactions in _by_key(customer, "전금-004").values():
                for t in transactions:
                    assert t["trans_type"] in efin.CODES["prepaid trans_type"]
                    if t["trans_type"] in ("01", "06"):
                        assert (t["trans_org_code"], t["trans_id"]) in accounts
                    if t["trans_type"] in ("02", "03"):
                        assert {"merchant_name", "merchant_regno", "trans_num", "trans_category"} <= set(t)


class TestPayments:
    def test_prepaid_payments_appear_among_the_payments(self, customers: list[CustomerData]) -> None:
        matched = 0
        for customer in customers:
            payments = {
                (p["trans_num"], p["trans_dtime"], p["trans_amt"])
                for group in _by_key(customer, "전금-103").values()
                for p in group
            }
            for transactions in _by_key(customer, "전금-004").values():
                for t in transactions:
                    if t["trans_type"] in ("02", "03"):
                        assert (t["trans_num"], t["trans_dtime"], t["trans_amt"]) in payments
                        matched += 1
        assert matched > 1000

    def test_card_and_account_payments_use_a_registered_method(self, customers: list[CustomerData]) -> None:
        cards = 0
        for customer in customers:
            methods = [m for group in _by_key(customer, "전금-102").values() for m in group]
            assert sum(m["is_primary"] == "true" for m in methods) == 1
            registered = {(m["pay_type"], m["pay_org_code"], m["pay_id"]) for m in methods}
            for group in _by_key(customer, "전금-103").values():
                for payment in group:
                    assert payment["trans_type"] in efin.CODES["payment trans_type"]
                    assert payment["pay_method"] in efin.CODES["pay_method"]
                    assert payment["trans_category"] in efin.CODES["trans_category"]
                    if payment["pay_method"] in ("03", "04"):
                        assert (payment["pay_type"], payment["trans_org_code"], payment["pay_id"]) in registered
                    if payment["pay_method"] == "03":
                        assert {"approved_num", "card_name"} <= set(payment)
                        cards += 1
                    else:
                        assert "approved_num" not in payment
        assert cards > 100

    def test_cancellations_follow_their_payment(self, customers: list[CustomerData]) -> None:
        cancelled = 0
        for customer in customers:
            for group in _by_key(customer, "전금-103").values():
                paid = {p["trans_num"]: p for p in group if p["trans_type"] == "01"}
                for payment in group:
                    if payment["trans_type"] == "02":
                        original = paid[payment["trans_num"]]
                        assert original["trans_dtime"] <= payment["trans_dtime"]
                        assert original["trans_amt"] == payment["trans_amt"]
                        cancelled += 1
        assert cancelled > 10

    def test_thin_file_customers_register_no_card(self, people: list[Person], customers: list[CustomerData]) -> None:
        thin = {p.ci for p in people if p.thin_file}
        checked = 0
        for customer in customers:
            if customer.ci in thin:
                types = {m["pay_type"] for group in _by_key(customer, "전금-102").values() for m in group}
                assert types == {"01"}
                checked += 1
        assert checked > 5
