"""The securities sandbox (금투-001…005): who is a customer, determinism, records that fit the catalogue and its
keys, cash ledgers that add up, shared prices, and pension-savings figures that agree with the transactions."""

from __future__ import annotations

import dataclasses
import itertools
from collections import defaultdict
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

import pytest

from openmydata.sandbox import invest
from openmydata.sandbox.institutions import generate_customers, is_customer
from openmydata.sandbox.population import Person, generate_people
from openmydata.sandbox.timeline import Window
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.apis.invest import PENSION
from openmydata.standard.catalogue import Kind, selector_key
from openmydata.standard.dataset import CustomerData, StoredRecord

from .samples import AS_OF, SEED

ORG = "INVSBX0001"
WINDOW = Window.ending(AS_OF)
DATA_KINDS = {Kind.ASSET_LIST, Kind.ASSET_INFO, Kind.RECORDS}
FUTURE_FIELDS = {"pension_rcv_start_date"}


@pytest.fixture(scope="module")
def people() -> list[Person]:
    return generate_people(600, SEED, AS_OF)


@pytest.fixture(scope="module")
def customers(people: list[Person]) -> list[CustomerData]:
    return list(generate_customers(people, sector="invest", org_code=ORG, seed=SEED, as_of=AS_OF, validate=True))


def _records(customer: CustomerData, api_id: str, key: str | None = None) -> list[StoredRecord]:
    return [r for r in customer.records if r.api_id == api_id and (key is None or r.key == key)]


def _parse(api_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    spec = CATALOGUE[api_id]
    if spec.kind is Kind.ASSET_INFO:
        envelope = {"rsp_code": "00000", "rsp_msg": "정상"}
        wire = spec.response.model_validate({**payload, **envelope}).to_wire()
        return {k: v for k, v in wire.items() if k not in envelope}
    assert spec.record_model is not None
    return spec.record_model.model_validate(payload).to_wire()


class TestCustomers:
    def test_the_fast_output_equals_the_validated_output(
        self, people: list[Person], customers: list[CustomerData]
    ) -> None:
        fast = generate_customers(people, sector="invest", org_code=ORG, seed=SEED, as_of=AS_OF)
        assert [c.model_dump_json() for c in fast] == [c.model_dump_json() for c in customers]

    def test_same_inputs_give_the_same_customers_whatever_the_population_size(self, people: list[Person]) -> None:
        def run(count: int) -> list[str]:
            chosen = people[:count]
            return [
                c.model_dump_json()
                for c in generate_customers(chosen, sector="invest", org_code=ORG, seed=SEED, as_of=AS_OF)
            ]

        small = run(60)
        assert small
        assert small == run(60)
        assert run(150)[: len(small)] == small

    def test_another_firm_has_other_customers_and_account_numbers(self, people: list[Person]) -> None:
        here = {p.index for p in people if is_customer(p, "invest", ORG, SEED)}
        there = {p.index for p in people if is_customer(p, "invest", "INVSBX0002", SEED)}
        assert here != there
        assert here & there  # some people use both

    def test_who_holds_a_brokerage_account(self, people: list[Person], customers: list[CustomerData]) -> None:
        rate = len(customers) / len(people)
        assert 0.08 < rate < 0.25
        by_ci = {p.ci: p for p in people}
        ages = [by_ci[c.ci].age for c in customers]
        assert sum(25 <= age <= 60 for age in ages) / len(ages) > 0.7
        prime = next(p for p in people if 30 <= p.age <= 50 and not p.thin_file)
        assert invest.share(dataclasses.replace(prime, income_level=1.5)) > invest.share(
            dataclasses.replace(prime, income_level=-1.5)
        )
        assert invest.share(dataclasses.replace(prime, age=22)) < invest.share(prime)
        assert invest.share(dataclasses.replace(prime, age=75)) < invest.share(prime)

    def test_every_data_api_has_records(self, customers: list[CustomerData]) -> None:
        produced = {r.api_id for c in customers for r in c.records}
        assert produced == {spec.id for spec in CATALOGUE.sector("invest") if spec.kind in DATA_KINDS}
        with_pension = sum(1 for c in customers if _records(c, "금투-005"))
        assert 0.05 < with_pension / len(customers) < 0.5

    def test_every_payload_is_in_its_models_wire_form(self, customers: list[CustomerData]) -> None:
        for customer in customers:
            for record in customer.records:
                assert CATALOGUE.bound(CATALOGUE[record.api_id], "invest").sector == "invest"
                assert _parse(record.api_id, record.payload) == record.payload

    def test_keys_are_the_selector_key_of_a_matching_account(self, customers: list[CustomerData]) -> None:
        for customer in customers:
            accounts = [r.payload for r in _records(customer, "금투-001")]
            assert len({a["account_num"] for a in accounts}) == len(accounts)
            for record in customer.records:
                spec = CATALOGUE[record.api_id]
                if spec.is_shared:  # IRP, keyed by its own list: test_irp
                    continue
                if spec.source is None:
                    assert record.key == ""
                    continue
                matching = [a for a in accounts if spec.source.where is None or spec.source.where(a)]
                assert record.key in {selector_key(a, spec.key_fields) for a in matching}, record.api_id
            for account in accounts:
                key = account["account_num"]
                assert len(_records(customer, "금투-002", key)) == 1
                assert len(_records(customer, "금투-005", key)) == (1 if PENSION(account) else 0)

    def test_account_numbers_are_unique_at_the_firm(self, customers: list[CustomerData]) -> None:
        numbers = [r.payload["account_num"] for c in customers for r in _records(c, "금투-001")]
        assert len(numbers) == len(set(numbers))

    def test_history_lies_in_the_window_and_other_dates_are_past(self, customers: list[CustomerData]) -> None:
        first, last = WINDOW.start.strftime("%Y%m%d"), AS_OF.strftime("%Y%m%d")
        for customer in customers:
            for record in customer.records:
                if record.api_id == "금투-003":
                    assert first <= record.payload["trans_dtime"][:8] <= last
                for name, value in record.payload.items():
                    if name.endswith("_date") and name not in FUTURE_FIELDS and not record.api_id.startswith("IRP-"):
                        assert value <= last, (record.api_id, name, value)

    def test_transaction_numbers_are_unique_per_account(self, customers: list[CustomerData]) -> None:
        for customer in customers:
            seen: set[tuple[str, str]] = set()
            for record in _records(customer, "금투-003"):
                identity = (record.key, record.payload["trans_no"])
                assert identity not in seen
                seen.add(identity)


class TestLedgers:
    def test_balances_follow_the_settled_amounts(self, customers: list[CustomerData]) -> None:
        checked = 0
        for customer in customers:
            ledgers: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
            for record in _records(customer, "금투-003"):
                ledgers[(record.key, record.payload["currency_code"])].append(record.payload)
            for (key, currency), transactions in ledgers.items():
                times = [t["trans_dtime"] for t in transactions]
                assert times == sorted(times)
                for previous, current in itertools.pairwise(transactions):
                    sign = 1 if current["trans_type"] in invest.INFLOW else -1
                    assert current["trans_type"] in invest.INFLOW | invest.OUTFLOW
                    expected = Decimal(previous["balance_amt"]) + sign * Decimal(current["settle_amt"])
                    assert Decimal(current["balance_amt"]) == expected
                    checked += 1
                assert all(Decimal(t["balance_amt"]) >= 0 for t in transactions)
                if currency == "KRW":
                    basic = _records(customer, "금투-002", key)[0].payload
                    assert basic["withholdings_amt"] == transactions[-1]["balance_amt"]
        assert checked > 1000

    def test_fees_and_taxes_of_trades(self, customers: list[CustomerData]) -> None:
        sales = taxed = 0
        for customer in customers:
            for record in _records(customer, "금투-003"):
                t = record.payload
                amount, settle = Decimal(t["trans_amt"]), Decimal(t["settle_amt"])
                if t["trans_type"] == "101":
                    assert settle >= amount
                    if "base_amt" in t and t["currency_code"] == "KRW" and not t["prod_code"].startswith("KR5"):
                        assert amount == Decimal(t["trans_num"]) * Decimal(t["base_amt"])
                elif t["trans_type"] == "102":
                    assert settle <= amount
                    code = t["prod_code"]
                    if invest.SECURITIES[code].prod_type == "101":
                        day = _date(t["trans_dtime"])
                        fee = (amount * invest.COMMISSION_RATE).quantize(Decimal(1), ROUND_FLOOR)
                        tax = (amount * invest.transaction_tax_rate(day)).quantize(Decimal(1), ROUND_FLOOR)
                        assert settle == amount - fee - tax
                        sales += 1
                elif t["trans_type"] == "301" and not _is_pension(customer, record.key):
                    # dividends are taxed at source outside pension accounts
                    if t["currency_code"] == "KRW":
                        tax = (amount * invest.DIVIDEND_TAX_RATE).quantize(Decimal(1), ROUND_FLOOR)
                    else:
                        tax = (amount * invest.US_DIVIDEND_TAX_RATE).quantize(Decimal("0.01"), ROUND_FLOOR)
                    assert settle == amount - tax
                    taxed += tax > 0
                elif t["trans_type"] in {"201", "202", "401", "402"}:
                    assert settle == amount
        assert sales > 20
        assert taxed > 20

    def test_dollars_are_bought_just_before_a_us_purchase(self, customers: list[CustomerData]) -> None:
        exchanges = 0
        for customer in customers:
            records = [r.payload for r in _records(customer, "금투-003")]
            for index, t in enumerate(records):
                if t["trans_type"] != "401":
                    continue
                exchanges += 1
                incoming = records[index + 1]
                assert incoming["trans_type"] == "402"
                assert incoming["currency_code"] == "USD"
                assert incoming["trans_amt"] == t["trans_num"]
                rate = Decimal(t["base_amt"]) * (1 + invest.FX_SPREAD)
                assert Decimal(t["trans_amt"]) == (Decimal(incoming["trans_amt"]) * rate).to_integral_value(
                    ROUND_CEILING
                )
                purchase = records[index + 2]
                assert (purchase["trans_type"], purchase["currency_code"]) == ("101", "USD")
        assert exchanges > 5

    def test_everyone_trades_at_the_same_price_on_the_same_day(self, customers: list[CustomerData]) -> None:
        prices: dict[tuple[str, str], set[str]] = defaultdict(set)
        for customer in customers:
            for record in _records(customer, "금투-003"):
                t = record.payload
                if t["trans_type"] in {"101", "102"}:
                    prices[(t["prod_code"], t["trans_dtime"][:8])].add(t["base_amt"])
        assert prices
        assert all(len(seen) == 1 for seen in prices.values())
        assert sum(1 for (code, _day) in prices if code == "005930") > 5

    def test_holdings_are_valued_at_the_closing_price(self, customers: list[CustomerData]) -> None:
        unit_values: dict[str, set[Decimal]] = defaultdict(set)
        for customer in customers:
            for record in _records(customer, "금투-004"):
                p = record.payload
                assert Decimal(p["holding_num"]) > 0
                assert p["avail_for_sale_num"] == p["holding_num"]
                security = invest.SECURITIES[p["prod_code"]]
                assert (p["prod_type"], p["currency_code"]) == (security.prod_type, security.currency)
                if not security.is_fund and security.currency == "KRW":
                    unit_values[p["prod_code"]].add(Decimal(p["eval_amt"]) / Decimal(p["holding_num"]))
                if security.is_fund:
                    assert {"paid_in_amt", "withdrawal_amt"} <= set(p)
        assert unit_values
        assert all(len(values) == 1 for values in unit_values.values())


class TestPensionSavings:
    def test_pension_figures_agree_with_the_transactions(self, customers: list[CustomerData]) -> None:
        receiving = contributing = 0
        for customer in customers:
            for info in _records(customer, "금투-005"):
                p = info.payload
                transactions = [r.payload for r in _records(customer, "금투-003", info.key)]
                total, deductible = Decimal(p["total_paid_in_amt"]), Decimal(p["tax_deductible_amt"])
                assert total == deductible + Decimal(p["non_deductible_amt"])
                assert (
                    Decimal(p["cur_year_paid_in_amt"])
                    <= Decimal(p["paid_in_limit_amt"])
                    == invest.PENSION_PAID_IN_LIMIT
                )
                paid_this_year = sum(
                    Decimal(t["trans_amt"])
                    for t in transactions
                    if t["trans_type"] == "201" and t["trans_dtime"][:4] == str(AS_OF.year)
                )
                assert Decimal(p["cur_year_paid_in_amt"]) == paid_this_year
                start = p["pension_rcv_start_date"]
                payouts = [t for t in transactions if t["trans_type"] == "203"]
                if start <= AS_OF.strftime("%Y%m%d"):
                    receiving += 1
                    assert not [t for t in transactions if t["trans_type"] == "201" and t["trans_dtime"] >= start]
                    assert Decimal(p["rcv_amt"]) >= sum(Decimal(t["trans_amt"]) for t in payouts)
                    for payout in payouts:
                        assert Decimal(payout["settle_amt"]) < Decimal(payout["trans_amt"])  # 연금소득세
                else:
                    contributing += 1
                    assert not payouts
                    assert "rcv_amt" not in p
                basic = _records(customer, "금투-002", info.key)[0].payload
                assert basic["is_tax_benefits"] == "true"
                for product in _records(customer, "금투-004", info.key):
                    assert invest.SECURITIES[product.payload["prod_code"]].pension
        assert contributing > 5
        assert receiving >= 1

    def test_brokerage_accounts_have_no_tax_benefits(self, customers: list[CustomerData]) -> None:
        for customer in customers:
            for account in _records(customer, "금투-001"):
                basic = _records(customer, "금투-002", account.payload["account_num"])[0].payload
                assert basic["is_tax_benefits"] == ("true" if account.payload["account_type"] == "201" else "false")


class TestCollectable:
    def test_every_history_record_is_inside_a_consent_time_range(self, customers: list[CustomerData]) -> None:
        spec = CATALOGUE["금투-003"]
        assert spec.range_unit == "date"
        first, last = WINDOW.start.strftime("%Y%m%d"), AS_OF.strftime("%Y%m%d")
        ranged = [r for c in customers for r in c.records if CATALOGUE[r.api_id].is_ranged]
        assert ranged
        for record in ranged:
            assert first <= record.payload[spec.record_period_field or ""][:8] <= last


def _date(dtime: str) -> date:
    return date(int(dtime[:4]), int(dtime[4:6]), int(dtime[6:8]))


def _is_pension(customer: CustomerData, key: str) -> bool:
    return any(PENSION(r.payload) for r in _records(customer, "금투-001") if r.payload["account_num"] == key)
