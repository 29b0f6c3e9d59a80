"""The registry of the attack suite: one entry per distinct attack (parametrised cases of one attack count once).

Modelled on the OpenID FAPI negative conformance tests and the OWASP API Security Top 10 (2023): API1 broken
object level authorisation, API2 broken authentication, API3 broken object property level authorisation, API4
unrestricted resource consumption, API5 broken function level authorisation, API8 security misconfiguration.
Attacks on mutual TLS and client certificates (`test_mtls.py`) run against the whole ecosystem on loopback, with
real TLS 1.3 handshakes and the demo's certificates.

Each test of the suite is decorated with `@attack(name)`; `test_registry.py` checks that every registered attack
has exactly one test and every attack test is registered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pytest

F = TypeVar("F", bound=Callable[..., Any])

ATTACKS: dict[str, str] = {
    # API1 — broken object level authorisation
    "bola_foreign_asset_all_asset_consent": "Bob's asset at every asset-scoped bank/card/telecom API with Alice's "
    "all_asset consent → 404 40402",
    "bola_foreign_asset_listed_consent": "Bob's asset at every asset-scoped API with a consent naming Alice's assets "
    "→ 401 40105",
    "bola_own_asset_not_in_consent": "Alice's own asset left out of her consent → 401 40105",
    "bola_asset_lists_only_own": "은행-001/카드-001/통신-001 never list Bob's assets",
    "bola_customer_level_data_only_own": "customer-level APIs (points, bills, payments, loans, telecom bills) never "
    "return Bob's records",
    "bola_parameter_pollution_card_id": "Bob's card_id in the path with Alice's card_id in the query → 40402",
    "bola_mass_assignment_extra_fields": "customer/consent identifiers smuggled into the request body are ignored",
    "bola_revoke_other_operators_token": "another operator revokes Alice's token at 개별인증-004 → 99999, token lives",
    "bola_refresh_other_operators_token": "another operator refreshes Alice's refresh token → invalid_grant",
    # API5 — broken function level authorisation (scopes)
    "scope_card_api_with_bank_token": "card APIs with a bank-only token → 401 40104",
    "scope_other_api_same_industry": "a bank.deposit token at 은행-008 (bank.loan) → 401 40104",
    "scope_consents_api_other_industry": "정보제공-공통-002 under an industry the consent does not name → 401 40104",
    "scope_foreign_industry_in_consent": "a consent with card scopes at a bank-only provider → invalid_scope",
    "scope_unknown_scope_in_consent": "a consent with an invented scope → invalid_scope",
    # 통합인증-002 — the signed consent
    "consent_tampered_after_signing": "the CMS content altered after signing → invalid_grant",
    "consent_signed_by_other_person": "a consent signed with Bob's certificate for Alice's CI → invalid_grant",
    "consent_signed_by_untrusted_ca": "a certificate with Alice's CI from a CA the provider does not trust → "
    "invalid_grant",
    "consent_signed_with_expired_certificate": "a consent signed with an expired person certificate → invalid_grant",
    "consent_for_other_provider": "snd_org_code names another provider → invalid_grant",
    "consent_for_other_operator": "rcv_org_code names another operator than the client → invalid_grant",
    "consent_longer_than_one_year": "end_date more than one year ahead → invalid_grant",
    "consent_already_ended": "end_date in the past → invalid_grant",
    "consent_password_not_cms": "password is not a CMS SignedData → invalid_grant",
    "consent_nonce_replayed": "the whole 통합인증-002 request sent again → invalid_grant",
    "consent_tx_id_replayed": "a fresh signed consent under an already used tx_id → invalid_grant",
    "consent_nonce_mismatch": "form consent_nonce differs from the signed nonce → invalid_grant",
    "consent_tx_id_other_operator": "tx_id naming another operator than the client → invalid_request",
    "consent_form_other_provider": "org_code / tx_id of the form naming another provider → invalid_request",
    "grant_type_without_consent": "client_credentials / authorization_code at the token endpoint → "
    "unsupported_grant_type",
    # API2 — broken authentication (tokens)
    "token_expired": "an access token past its expiry → 401 40101",
    "token_forged_signature": "a token signed with another key, or with its signature altered → 401 40101",
    "token_alg_none": "an unsigned token (alg none) carrying a real token's claims → 401 40101",
    "token_wrong_audience": "a correctly signed token whose aud names another operator → 401 40101",
    "token_wrong_issuer": "a token issued by another provider (iss) → 401 40101",
    "token_scope_claim_edited": "a token whose scope claim was widened → 401 40101",
    "token_refresh_as_access": "the refresh token presented as an access token → 401 40101",
    "token_access_as_refresh": "the access token presented at 개별인증-003 → invalid_grant",
    "token_of_revoked_consent": "an access token after 개별인증-004 revoked the consent → 401 40101",
    "token_of_replaced_consent": "an access token after a new consent replaced the old one → 401 40101",
    "token_consent_end_passed": "an access token of a consent whose end time passed → 401 40106",
    "token_malformed_bearer": "malformed Authorization headers (Basic, empty Bearer, garbage) → 401 40101",
    "token_missing": "no Authorization header → 401 40101",
    # client credentials
    "client_wrong_secret_integrated_auth": "wrong client_secret at 통합인증-002 → 401 invalid_client",
    "client_wrong_secret_refresh": "wrong client_secret at 개별인증-003 → 401 invalid_client",
    "client_wrong_secret_revoke": "wrong client_secret at 개별인증-004 → 401 invalid_client",
    "client_unknown_client_id": "an unknown client_id → 401 invalid_client",
    # API4 / API8 — inputs and resource consumption
    "input_limit_over_500": "limit=501 (and 999, -1) → 400 40001",
    "input_account_num_too_long": "account_num of 21 characters → 400 40001",
    "input_next_page_too_long": "next_page of 1001 characters → 400 40001",
    "input_huge_json_body": "a JSON body of several megabytes → 400 40001",
    "input_malformed_json": "a body that is not JSON (or not an object) → 400 40001",
    "input_wrong_content_type": "a JSON body declared as text/plain or form data → 400 40002",
    "input_non_ascii_in_an_fields": "Hangul and full-width digits in aN fields → 400 40001",
    "input_impossible_dates": "dates like 20260230 or month 13 → 400 40001",
    "input_range_reversed": "from_date after to_date → 400 40001",
    "input_range_over_twelve_months": "a user-consent range of more than 12 months → 400 40004",
    "input_data_older_than_five_years": "a range reaching more than 5 years back → 403 40304",
    "input_foreign_org_code": "org_code of another provider in the request → 400 40001",
    "header_tran_id_invalid": "x-api-tran-id missing, lower-case, too long → 400 40002",
    "header_api_type_invalid": "x-api-type missing or unknown → 400 40002",
    "header_injection_tran_id": "CR/LF in x-api-tran-id → 400 40002, never echoed",
    "sqli_bank_accounts": "SQL injection in every parameter of 은행-001 → 40001, never 500 or data",
    "sqli_bank_transactions": "SQL injection in every parameter of 은행-004 → 40001/40402, never 500 or data",
    "sqli_card_path_card_id": "SQL injection in 카드-008's path card_id → 40402/40401, never 500 or data",
    "sqli_telecom_paid_transactions": "SQL injection in every parameter of 통신-004 → 40001/40402",
    "sqli_token_endpoint": "SQL injection in the token endpoint's username, client_id and tokens → OAuth errors",
    "excessive_data_sensitive_fields": "trans_memo / merchant_name sent without the consent's sensitive flags",
    # paging cursors
    "cursor_of_other_person": "a next_page cursor minted for Bob's consent used with Alice's token → 400 40001",
    "cursor_of_other_api": "a cursor of 은행-004 at 은행-001 / of another account → 400 40001",
    "cursor_tampered": "a cursor whose position was edited or forged → 400 40001",
    # methods and paths
    "method_not_allowed": "DELETE / PUT / PATCH on information APIs and the token endpoint → 405 40501",
    "path_unknown": "paths the provider does not serve (other industries, admin, odd spellings) → 404 40401",
    "path_traversal_card_id": "../ and encoded traversal in card_id → 40401/40402, never another API's data",
    # API4 — rate limiting
    "rate_limit_per_token": "more calls per minute than rate_limit_per_minute with one token → 429 42901 "
    "with Retry-After",
    # mutual TLS and client certificates (FAPI: MTLS client authentication and certificate-bound tokens)
    "mtls_no_client_certificate": "a TLS client without a certificate at every participant listener → handshake "
    "refused",
    "mtls_untrusted_ca": "a certificate with the operator's SERIALNUMBER from a CA the ecosystem does not trust → "
    "handshake refused",
    "mtls_tls12_client": "a TLS 1.2 client with a valid certificate → handshake refused (TLS 1.3 only)",
    "mtls_unregistered_serialnumber": "a trusted CA's certificate whose SERIALNUMBER is not registered, at portal, "
    "certauth, provider and operator → 401 40103",
    "mtls_participant_api_over_plain_http": "participant APIs called on the people's plain-HTTP listeners → 401 40103",
    "mtls_token_with_other_certificate_same_org": "an access token presented with another certificate of the same "
    "organisation (RFC 8705) → 401 40101",
    "mtls_token_with_other_orgs_certificate": "the operator's access token presented with a provider's certificate → "
    "401 40101",
    "mtls_credentials_with_other_orgs_certificate": "the operator's client credentials (개별인증-003, 지원-001, CA "
    "token) sent over another organisation's certificate → 401 unauthorized_client",
    "mtls_support_token_with_other_orgs_certificate": "the operator's 지원 token used over another organisation's "
    "certificate → 401 40103",
    "mtls_deregistered_organisation": "the certificate of an organisation deregistered at the portal → 401 40103",
    "mtls_operator_support_api_not_portal": "지원-101 at the operator with a provider's certificate → 401 40103",
}

IMPLEMENTED: dict[str, str] = {}


def attack(name: str) -> Callable[[F], F]:
    """Register a test as the one test of attack `name` (which must be in ATTACKS)."""
    if name not in ATTACKS:
        raise KeyError(f"{name} is not a registered attack")

    def decorate(function: F) -> F:
        where = f"{function.__module__}.{function.__qualname__}"
        if IMPLEMENTED.setdefault(name, where) != where:
            raise ValueError(f"attack {name} has two tests: {IMPLEMENTED[name]} and {where}")
        marked: F = pytest.mark.attack(name)(function)
        return marked

    return decorate
