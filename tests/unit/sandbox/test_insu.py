"""Synthetic insurance data (보험-001…012): deterministic, valid against the catalogue, collectable, plausible."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from openmydata.operator.collector import collection_levels, plan_calls
from openmydata.sandbox import insu
from openmydata.sandbox.institutions import SECTORS, customer_lines, generate_customers, is_customer
from openmydata.sandbox.population import Person, generate_people
from openmydata.sandbox.timeline import Window
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.catalogue import Kind, Sector, selector_key
from openmydata.standard.dataset import CustomerData, StoredRecord, dump_lines

SEED = 20240917
AS_OF = date(2025, 6, 30)
ORG = "INSUSBX001"
OTHER_ORG = "INSUSBX002"
WINDOW = Window.ending(AS_OF)
API_IDS = [spec.id for spec in CATALOGUE.sector(Sector.INSU) if spec.id.startswith("보험-")]
# Fields that describe the future by nature; every other date is history.
FUTURE_FIELDS = {
    "exp_date",
    "contract_exp_date",
    "coverage_exp_date",
    "end_date",
    "pay_end_date",
    "pension_rcv_start_date",
    "loan_exp_date",
    "next_repay_date",
}


@pytest.fixture(scope="module")
def people() -> list[Person]:
    return generate_people(400, SEED, AS_OF)


@pytest.fixture(scope="module")
def customers(people: list[Person]) -> list[CustomerData]:
    return list(generate_customers(people, sector="insu", org_code=ORG, seed=SEED, as_of=AS_OF))


def _records(customer: CustomerData, api_id: str) -> list[StoredRecord]:
    return [record for record in customer.records if record.api_id == api_id]


def _by_key(customer: CustomerData, api_id: str) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in _records(customer, api_id):
        grouped[record.key].append(record.payload)
    return grouped


class TestGeneration:
    def test_the_sector_is_generated(self) -> None:
        assert "insu" in SECTORS

    def test_fast_output_equals_validated_output(self, people: list[Person]) -> None:
        kwargs: dict[str, Any] = {"sector": "insu", "org_code": ORG, "seed": SEED, "as_of": AS_OF}
        fast = [c.model_dump_json() for c in generate_customers(people[:150], **kwargs)]
        validated = list(generate_customers(people[:150], validate=True, **kwargs))
        assert fast
        assert fast == [c.model_dump_json() for c in validated]
        lines = [line.decode("utf-8") for line, _ in customer_lines(people[:150], **kwargs)]
        assert lines == list(dump_lines(validated))

    def test_same_inputs_give_identical_customers_whatever_the_population(self, people: list[Person]) -> None:
        def run(group: list[Person]) -> list[str]:
            generated = generate_customers(group, sector="insu", org_code=ORG, seed=SEED, as_of=AS_OF)
            return [customer.model_dump_json() for customer in generated]

        small = run(people[:40])
        assert small == run(people[:40])
        assert run(people[:80])[: len(small)] == small

    def test_every_data_api_has_records(self, customers: list[CustomerData]) -> None:
        produced = {record.api_id for customer in customers for record in customer.records}
        assert produced - {"IRP-001", "IRP-002", "IRP-003", "IRP-004"} == set(API_IDS)  # IRP: test_irp

    def test_keys_are_the_selector_key_of_a_source_record(self, customers: list[CustomerData]) -> None:
        for customer in customers:
            for record in customer.records:
                spec = CATALOGUE[record.api_id]
                if spec.source is None:
                    assert record.key == ""
                    continue
                candidates = {
                    selector_key({f: src.payload.get(o) for f, o in spec.source.fields.items()}, spec.key_fields)
                    for src in _records(customer, spec.source.api_id)
                }
                assert record.key in candidates, (record.api_id, record.key)

    def test_the_collector_plans_a_call_for_every_stored_key(self, customers: list[CustomerData]) -> None:
        """The operator's generic planner, fed the generated source records, asks for exactly the stored keys."""
        specs = [CATALOGUE[api_id] for api_id in API_IDS]
        levels = collection_levels(specs)
        assert [spec.id for spec in levels[0]] == ["보험-001", "보험-008"]
        assert {spec.id for level in levels for spec in level} == set(API_IDS)
        for customer in customers[:60]:
            for spec in specs:
                # as the provider serves them to a consent covering every asset
                sources = (
                    [{**r.payload, "is_consent": "true"} for r in _records(customer, spec.source.api_id)]
                    if spec.source
                    else []
                )
                planned = {
                    call.key
                    for chain in plan_calls(spec, org_code=ORG, source_records=sources, today=AS_OF)
                    for call in chain
                }
                stored = {record.key for record in _records(customer, spec.id)}
                assert stored <= planned, spec.id

    def test_asset_identifiers_are_unique_per_institution(self, customers: list[CustomerData]) -> None:
        for api_id, field in (("보험-001", "insu_num"), ("보험-008", "account_num")):
            ids = [r.payload[field] for c in customers for r in _records(c, api_id)]
            assert len(ids) == len(set(ids))

    def test_record_keys_are_unique(self, customers: list[CustomerData]) -> None:
        for customer in customers:
            seen: set[tuple[str, str, str]] = set()
            for record in customer.records:
                spec = CATALOGUE[record.api_id]
                natural = "|".join(str(record.payload.get(name, "")) for name in spec.record_key)
                identity = (record.api_id, record.key, natural)
                assert identity not in seen, identity
                seen.add(identity)

    @pytest.mark.parametrize("as_of", [AS_OF, date(2026, 11, 3)])
    def test_history_lies_inside_the_consent_time_range(self, people: list[Person], as_of: date) -> None:
        window = Window.ending(as_of)
        first, last = window.start.strftime("%Y%m%d"), as_of.strftime("%Y%m%d")
        checked = 0
        for customer in generate_customers(people[:200], sector="insu", org_code=ORG, seed=SEED, as_of=as_of):
            for record in customer.records:
                spec = CATALOGUE[record.api_id]
                for name, value in record.payload.items():
                    if name.endswith(("_date", "_dtime")) and name not in FUTURE_FIELDS and len(value) in (8, 14):
                        assert value[:8] <= last, (record.api_id, name, value)
                if spec.range_unit == "date":
                    day = str(record.payload[spec.record_period_field or ""])[:8]
                    assert first <= day <= last, (spec.id, day)
                    checked += 1
        assert checked > 100

    def test_codes_come_from_the_code_table(self, customers: list[CustomerData]) -> None:
        fields = {
            "보험-001": ("insu_type", "insu_status"),
            "보험-003": ("contract_status",),
            "보험-004": ("car_insu_type", "self_pay_rate"),
            "보험-005": ("pay_due", "pay_cycle"),
            "보험-006": ("pay_method",),
            "보험-008": ("account_type", "account_status"),
            "보험-009": ("repay_method",),
            "보험-012": ("coverage_status",),
        }
        for customer in customers:
            for api_id, names in fields.items():
                for record in _records(customer, api_id):
                    for name in names:
                        assert record.payload[name] in insu.CODES[name], (api_id, name)


class TestWhoHoldsWhat:
    def test_most_adults_of_working_age_are_customers_young_and_thin_file_people_fewer(
        self, people: list[Person]
    ) -> None:
        def rate(group: list[Person]) -> float:
            return sum(is_customer(p, "insu", ORG, SEED) for p in group) / len(group)

        middle = [p for p in people if 30 <= p.age < 60 and not p.thin_file]
        young = [p for p in people if p.age < 25]
        assert 0.35 < rate(people) < 0.6
        assert rate(middle) > rate(young) + 0.15

    def test_lines_follow_the_household(self, people: list[Person], customers: list[CustomerData]) -> None:
        by_ci = {p.ci: p for p in people}
        types = Counter(r.payload["insu_type"] for c in customers for r in _records(c, "보험-001"))
        assert types["05"] == max(types.values())  # 실손 is the most common
        assert set(types) >= {"01", "03", "04", "05", "07", "20"}
        for customer in customers:
            home = insu.household(by_ci[customer.ci], SEED, AS_OF)
            held = {r.payload["insu_type"] for r in _records(customer, "보험-001")}
            assert ("20" in held) <= (home.car is not None)
            assert ("11" in held) <= (home.car is not None)
            assert ("10" in held) <= (home.child is not None)

    def test_a_car_is_the_same_at_every_insurer(self, people: list[Person], customers: list[CustomerData]) -> None:
        other = generate_customers(people, sector="insu", org_code=OTHER_ORG, seed=SEED, as_of=AS_OF)
        cars = {c.ci: {r.payload["car_number"] for r in _records(c, "보험-004")} for c in customers}
        both = 0
        for customer in other:
            plates = {r.payload["car_number"] for r in _records(customer, "보험-004")}
            if plates and cars.get(customer.ci):
                assert plates == cars[customer.ci]
                both += 1
        assert both > 0

    def test_child_insurance_insures_the_child(self, customers: list[CustomerData]) -> None:
        checked = 0
        for customer in customers:
            listed = {r.payload["insu_num"]: r.payload["insu_type"] for r in _records(customer, "보험-001")}
            for record in _records(customer, "보험-002"):
                names = [item["insured_name"] for item in record.payload["insured_list"]]
                assert int(record.payload["insured_cnt"]) == len(names)
                if listed[record.key] == "10":
                    assert customer.name not in names
                    checked += 1
                else:
                    assert names[0] == customer.name
        assert checked > 0


class TestPremiums:
    def test_payments_are_monthly_instalments_of_the_premium(self, customers: list[CustomerData]) -> None:
        checked = 0
        for customer in customers:
            payments = {r.key: r.payload for r in _records(customer, "보험-005")}
            for key, transactions in _by_key(customer, "보험-006").items():
                plan = payments[key]
                numbers = [int(t["trans_no"]) for t in transactions]
                assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
                assert numbers[-1] == int(plan["pay_cnt"])
                assert all(Decimal(t["paid_amt"]) == Decimal(plan["pay_amt"]) for t in transactions)
                assert all(t["trans_date"][:6] >= t["trans_applied_month"] for t in transactions)
                assert all(t["trans_applied_month"] <= plan["pay_end_date"][:6] for t in transactions)
                checked += 1
        assert checked > 150

    def test_late_and_catch_up_payments_are_paid_directly(self, customers: list[CustomerData]) -> None:
        """Automatic payments are taken on the payment day (or the business day after); anything paid after its
        month is paid directly (pay_method 03)."""
        late = automatic = 0
        for customer in customers:
            payments = {r.key: r.payload for r in _records(customer, "보험-005")}
            for key, transactions in _by_key(customer, "보험-006").items():
                day = int(payments[key]["pay_date"])
                for t in transactions:
                    if t["trans_date"][:6] > t["trans_applied_month"]:
                        assert t["pay_method"] == "03"
                        late += 1
                    elif t["pay_method"] != "03" and t["trans_no"] != "1":
                        assert 0 <= int(t["trans_date"][6:]) - day <= 3, (t, day)
                        automatic += 1
        assert late > 0
        assert automatic > 1000

    def test_lapsed_contracts_are_those_of_riskier_people(
        self, people: list[Person], customers: list[CustomerData]
    ) -> None:
        by_ci = {p.ci: p for p in people}
        lapsed, in_force = [], []
        for customer in customers:
            statuses = {r.payload["insu_status"] for r in _records(customer, "보험-001")}
            (lapsed if "02" in statuses else in_force).append(by_ci[customer.ci].risk)
            for record in _records(customer, "보험-003") + _records(customer, "보험-012"):
                status = record.payload.get("contract_status") or record.payload["coverage_status"]
                listed = next(r for r in _records(customer, "보험-001") if r.payload["insu_num"] == record.key)
                assert status == listed.payload["insu_status"]
        assert lapsed
        assert statistics.mean(lapsed) > statistics.mean(in_force) + 0.5

    def test_premiums_are_plausible(self, people: list[Person], customers: list[CustomerData]) -> None:
        by_ci = {p.ci: p for p in people}
        shares = []
        for customer in customers:
            listed = {r.payload["insu_num"]: r.payload["insu_type"] for r in _records(customer, "보험-001")}
            monthly = 0
            for record in _records(customer, "보험-005"):
                amount = int(record.payload["pay_amt"])
                if listed[record.key] == "05":
                    assert 3_000 <= amount <= 200_000
                if record.payload["pay_cycle"] == "01":
                    monthly += amount
            shares.append(monthly / by_ci[customer.ci].monthly_net_income)
        assert 0.01 < statistics.median(shares) < 0.1


class TestCarInsurance:
    def test_car_records_belong_to_car_contracts_and_their_payments_add_up(self, customers: list[CustomerData]) -> None:
        checked = 0
        for customer in customers:
            listed = {r.payload["insu_num"]: r.payload for r in _records(customer, "보험-001")}
            payments = {r.key: r.payload for r in _records(customer, "보험-005")}
            car_transactions = _by_key(customer, "보험-007")
            for record in _records(customer, "보험-004"):
                car = record.payload
                assert listed[record.key]["insu_type"] == "20"
                assert car["insu_num"] == record.key
                assert car["start_date"] <= AS_OF.strftime("%Y%m%d") < car["end_date"]
                transactions = car_transactions[f"{record.key}|{car['car_number']}"]
                plan = payments[record.key]
                assert len(transactions) == int(plan["pay_cnt"]) >= 1
                assert transactions[0]["trans_dtime"][:8] == car["start_date"]
                for transaction in transactions:
                    assert transaction["face_amt"] == transaction["paid_amt"] == plan["pay_amt"]
                checked += 1
            assert not (set(car_transactions) and not _records(customer, "보험-004"))
        assert checked > 15


class TestPolicyLoans:
    def test_loans_are_drawn_on_loanable_contracts_and_balances_follow_the_repayments(
        self, customers: list[CustomerData]
    ) -> None:
        loans = 0
        for customer in customers:
            basics = {r.key: r.payload for r in _records(customer, "보험-002")}
            details = {r.key: r.payload for r in _records(customer, "보험-010")}
            history = _by_key(customer, "보험-011")
            for record in _records(customer, "보험-009"):
                loans += 1
                assert basics[record.payload["insu_num"]]["is_loanable"] == "true"
                detail = details[record.key]
                repaid = sum(Decimal(t["loan_paid_amt"]) for t in history[record.key])
                assert Decimal(detail["balance_amt"]) == Decimal(detail["loan_principal"]) - repaid
                assert detail["next_repay_date"] > AS_OF.strftime("%Y%m%d")
                for transaction in history[record.key]:
                    assert int(transaction["int_cnt"]) == len(transaction["int_list"])
                    assert Decimal(transaction["int_paid_amt"]) > 0
                    late = [i for i in transaction["int_list"] if i["int_type"] == "02"]
                    assert not (late and Decimal(transaction["loan_paid_amt"]))
            listed = {r.payload["account_num"] for r in _records(customer, "보험-008")}
            assert listed == {r.key for r in _records(customer, "보험-009")}
        assert loans >= 3

    def test_riskier_people_borrow_more(self, people: list[Person]) -> None:
        generated = list(generate_customers(people, sector="insu", org_code=OTHER_ORG, seed=SEED + 1, as_of=AS_OF))
        by_ci = {p.ci: p for p in people}
        borrowers = [by_ci[c.ci].risk for c in generated if _records(c, "보험-008")]
        others = [by_ci[c.ci].risk for c in generated if not _records(c, "보험-008")]
        assert borrowers
        assert statistics.mean(borrowers) > statistics.mean(others)


class TestAssetListShape:
    def test_lists_are_plain_entries_and_details_exist_for_every_contract(self, customers: list[CustomerData]) -> None:
        for customer in customers:
            contracts = [r.payload["insu_num"] for r in _records(customer, "보험-001")]
            assert contracts
            for api_id in ("보험-002", "보험-005"):
                assert sorted(r.key for r in _records(customer, api_id)) == sorted(contracts)
            assert customer.reg_date is not None
            assert customer.reg_date == min(r.payload["issue_date"] for r in _records(customer, "보험-002"))
            for spec_id in ("보험-001", "보험-008"):
                assert CATALOGUE[spec_id].kind is Kind.ASSET_LIST
                assert all(r.payload["is_consent"] == "false" for r in _records(customer, spec_id))
