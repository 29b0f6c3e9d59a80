"""The prepaid cards card customers hold (선불-001…004): balances that follow their movements, payments that match
their approvals, top-ups, rewards, trips abroad, and a timeline that starts when the card was issued."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Any

import pytest

from openmydata.sandbox import prepaid
from openmydata.sandbox.institutions import customer_lines, generate_customers
from openmydata.sandbox.population import Person, generate_people
from openmydata.sandbox.timeline import Window
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.catalogue import Kind
from openmydata.standard.dataset import CustomerData, StoredRecord, dump_lines

SEED = 20240917
AS_OF = date(2025, 6, 30)
ORG = "C1SBXP0000"
WINDOW = Window.ending(AS_OF)
IDS = ("선불-001", "선불-002", "선불-003", "선불-004")


@pytest.fixture(scope="module")
def people() -> list[Person]:
    return generate_people(700, SEED, AS_OF)


@pytest.fixture(scope="module")
def customers(people: list[Person]) -> list[CustomerData]:
    return list(generate_customers(people, sector="card", org_code=ORG, seed=SEED, as_of=AS_OF, validate=True))


@pytest.fixture(scope="module")
def holders(customers: list[CustomerData]) -> list[CustomerData]:
    return [customer for customer in customers if _records(customer, "선불-001")]


def _records(customer: CustomerData, api_id: str) -> list[StoredRecord]:
    return [record for record in customer.records if record.api_id == api_id]


def _by_card(customer: CustomerData, api_id: str) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in _records(customer, api_id):
        grouped[record.key].append(record.payload)
    return grouped


def _kind(name: str) -> str:
    return next(kind for kind, names in prepaid.NAMES.items() if name in names)


def _as_date(value: str) -> date:
    return date(int(value[:4]), int(value[4:6]), int(value[6:8]))


def _cards(holders: list[CustomerData]) -> list[tuple[CustomerData, dict[str, Any]]]:
    return [(customer, record.payload) for customer in holders for record in _records(customer, "선불-001")]


class TestWhoHoldsPrepaidCards:
    def test_some_card_customers_hold_one_or_two(
        self, customers: list[CustomerData], holders: list[CustomerData]
    ) -> None:
        assert 0.15 < len(holders) / len(customers) < 0.45
        counts = [len(_records(customer, "선불-001")) for customer in holders]
        assert set(counts) == {1, 2}
        kinds = {_kind(payload["pp_name"]) for _, payload in _cards(holders)}
        assert kinds == {prepaid.RELOADABLE, prepaid.TRAVEL, prepaid.GIFT}

    def test_identifiers_are_unique_and_every_card_has_its_records(self, holders: list[CustomerData]) -> None:
        ids = [payload["pp_id"] for _, payload in _cards(holders)]
        assert len(ids) == len(set(ids))
        for customer in holders:
            listed = {record.payload["pp_id"] for record in _records(customer, "선불-001")}
            assert {record.key for record in _records(customer, "선불-002")} == listed
            assert len(_records(customer, "선불-002")) == len(listed)
            for api_id in ("선불-003", "선불-004"):
                assert {record.key for record in _records(customer, api_id)} <= listed
        assert sum(len(_records(customer, "선불-004")) for customer in holders) > 10 * len(holders)

    def test_the_other_card_records_come_first_and_the_list_needs_no_card(self, holders: list[CustomerData]) -> None:
        for customer in holders:
            order = [record.api_id for record in customer.records]
            first_prepaid = min(order.index(api_id) for api_id in IDS)
            assert all(not api_id.startswith("선불-") for api_id in order[:first_prepaid])
            assert all(api_id.startswith("선불-") for api_id in order[first_prepaid:])


class TestBalances:
    def test_each_movement_changes_the_balance_by_its_amount_and_ends_at_the_balance(
        self, holders: list[CustomerData]
    ) -> None:
        for customer in holders:
            balances = _by_card(customer, "선불-002")
            movements = _by_card(customer, "선불-003")
            for pp_id, [balance] in balances.items():
                total = int(balance["total_balance_amt"])
                assert total == int(balance["charge_balance_amt"]) + int(balance["reserve_balance_amt"])
                assert 0 <= total <= int(balance["limit_amt"])
                history = movements.get(pp_id, [])
                times = [m["trans_dtime"] for m in history]
                assert times == sorted(times)
                for before, after in pairwise(history):
                    sign = 1 if after["trans_type"] in prepaid.CREDITS else -1
                    assert int(after["balance_amt"]) == int(before["balance_amt"]) + sign * int(after["trans_amt"])
                    assert 0 <= int(after["balance_amt"]) <= int(balance["limit_amt"])
                if history:
                    assert int(history[-1]["balance_amt"]) == total
                assert all(m["trans_type"] in prepaid.CODES["trans_type"] for m in history)

    def test_top_ups_come_from_a_bank_except_a_gift_cards_single_charge(self, holders: list[CustomerData]) -> None:
        gifts = 0
        for customer in holders:
            movements = _by_card(customer, "선불-003")
            for record in _records(customer, "선불-001"):
                kind = _kind(record.payload["pp_name"])
                top_ups = [m for m in movements.get(record.payload["pp_id"], []) if m["trans_type"] == "01"]
                if kind == prepaid.GIFT:
                    gifts += 1
                    assert len(top_ups) <= 1
                    assert all("trans_org_nm" not in m for m in top_ups)
                    assert int(_by_card(customer, "선불-002")[record.payload["pp_id"]][0]["limit_amt"]) == 500_000
                else:
                    assert all(m["trans_org_nm"] in prepaid.BANK_NAMES for m in top_ups)
                refunds = [m for m in movements.get(record.payload["pp_id"], []) if m["trans_type"] == "04"]
                assert all(m["trans_org_nm"] in prepaid.BANK_NAMES for m in refunds)
        assert gifts > 0

    def test_reward_points_are_earned_on_domestic_payments_of_reloadable_cards(
        self, holders: list[CustomerData]
    ) -> None:
        rewarded = 0
        for customer in holders:
            approvals = _by_card(customer, "선불-004")
            movements = _by_card(customer, "선불-003")
            for record in _records(customer, "선불-001"):
                pp_id = record.payload["pp_id"]
                [balance] = _by_card(customer, "선불-002")[pp_id]
                credited = sum(int(m["trans_amt"]) for m in movements.get(pp_id, []) if m["trans_type"] == "05")
                assert int(balance["reserve_balance_amt"]) == credited
                if _kind(record.payload["pp_name"]) != prepaid.RELOADABLE:
                    assert credited == 0
                    assert "reserve_due_amt" not in balance
                    continue
                earned = sum(
                    math.floor(int(a["approved_amt"]) * prepaid.POINT_RATE)
                    for a in approvals.get(pp_id, [])
                    if a["status"] == "01" and a["pay_type"] == "01"
                )
                assert credited + int(balance["reserve_due_amt"]) == earned
                assert 0 <= int(balance["exp_due_amt"]) <= credited
                rewarded += credited > 0
                for movement in movements.get(pp_id, []):
                    if movement["trans_type"] == "05":
                        assert movement["trans_dtime"][6:8] == "10"
        assert rewarded > 0


class TestApprovals:
    def test_every_approval_is_a_payment_and_every_cancellation_a_refund(self, holders: list[CustomerData]) -> None:
        cancelled = 0
        for customer in holders:
            movements = _by_card(customer, "선불-003")
            for pp_id, approvals in _by_card(customer, "선불-004").items():
                payments = {m["approved_num"]: m for m in movements[pp_id] if m["trans_type"] == "02"}
                refunds = {m["approved_num"]: m for m in movements[pp_id] if m["trans_type"] == "03"}
                assert len(payments) == len(approvals)
                for approval in approvals:
                    payment = payments[approval["approved_num"]]
                    amount = approval.get("krw_amt", approval["approved_amt"])
                    assert (payment["trans_dtime"], payment["trans_amt"]) == (approval["approved_dtime"], amount)
                    if approval["status"] == "02":
                        cancelled += 1
                        refund = refunds[approval["approved_num"]]
                        assert (refund["trans_dtime"], refund["trans_amt"]) == (approval["cancel_dtime"], amount)
                        assert approval["cancel_dtime"] > approval["approved_dtime"]
                    else:
                        assert approval["status"] == "01"
                        assert "cancel_dtime" not in approval
                assert set(refunds) <= set(payments)
        assert cancelled > 0

    def test_overseas_use_is_travel_cards_abroad_in_the_local_currency(self, holders: list[CustomerData]) -> None:
        overseas = 0
        for customer in holders:
            names = {r.payload["pp_id"]: r.payload["pp_name"] for r in _records(customer, "선불-001")}
            for record in _records(customer, "선불-004"):
                approval = record.payload
                assert approval["pay_type"] in prepaid.CODES["pay_type"]
                abroad = approval["pay_type"] == "02"
                assert (
                    abroad == ("currency_code" in approval) == ("country_code" in approval) == ("krw_amt" in approval)
                )
                assert abroad != ("merchant_regno" in approval)
                if abroad:
                    overseas += 1
                    assert _kind(names[record.key]) == prepaid.TRAVEL
                    assert approval["currency_code"] != prepaid.KRW
                    assert Decimal(approval["approved_amt"]) > 0
        assert overseas > 0


class TestTimeline:
    def test_everything_happens_in_the_window_after_the_customer_registered(
        self, people: list[Person], holders: list[CustomerData]
    ) -> None:
        ages = {person.ci: person for person in people}
        for customer in holders:
            assert customer.reg_date is not None
            registered = _as_date(customer.reg_date)
            born = _as_date(ages[customer.ci].birth_date)
            for record in customer.records:
                spec = CATALOGUE[record.api_id]
                if not record.api_id.startswith("선불-") or spec.kind is not Kind.RECORDS:
                    continue
                moment = _as_date(record.payload[spec.record_period_field or ""])
                assert moment in WINDOW
                assert moment >= registered
                assert (moment - born).days >= 14 * 365

    def test_fast_output_and_lines_equal_the_validated_output(self, people: list[Person]) -> None:
        kwargs: dict[str, Any] = {"sector": "card", "org_code": ORG, "seed": SEED, "as_of": AS_OF}
        strict = list(generate_customers(people[:150], validate=True, **kwargs))
        fast = list(generate_customers(people[:150], **kwargs))
        assert any(_records(customer, "선불-001") for customer in strict)
        assert [c.model_dump_json() for c in fast] == [c.model_dump_json() for c in strict]
        assert [line.decode("utf-8") for line, _ in customer_lines(people[:150], **kwargs)] == list(dump_lines(strict))

    def test_same_inputs_give_the_same_prepaid_cards(self, people: list[Person], customers: list[CustomerData]) -> None:
        again = list(generate_customers(people[:200], sector="card", org_code=ORG, seed=SEED, as_of=AS_OF))
        assert [c.model_dump_json() for c in again] == [c.model_dump_json() for c in customers[: len(again)]]
