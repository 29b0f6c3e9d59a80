"""Access tokens for a sample of customers, obtained the way an operator does: each person signs a consent
(CMS, with a certificate from the benchmark's CA) and the operator posts it to the provider's 통합인증-002 token
endpoint, which verifies it, records the consent and issues the tokens. Nothing is written behind its back."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import asyncpg
import httpx

from bench.common import CA_CODE, CLIENT_ID, CLIENT_SECRET, OPERATOR_ORG, PROVIDER_ORG, pg_dsn
from bench.loadgen import Sample
from openmydata.kit import cms
from openmydata.kit.clock import now_kst, to_dtime
from openmydata.kit.ids import urlsafe_nonce
from openmydata.kit.pki import CertificateAuthority
from openmydata.standard.consent import TargetInfo, TransmissionRequest, encode_signed_content
from openmydata.standard.formats import Party, new_tran_id, new_tx_id

DEPOSIT_PREFIX = "1"  # account_type 1xxx: deposit accounts (은행-004 serves them)


@dataclass(frozen=True)
class Candidate:
    customer_id: int
    ci: str
    account_num: str
    seqno: str | None


def write_trust_file(ca: CertificateAuthority, directory: Path) -> Path:
    path = directory / "bench-ca.pem"
    path.write_bytes(ca.certificate_pem())
    return path


async def pick_customers(database: str, count: int, seed: int) -> list[Candidate]:
    """`count` random customers (deterministic in seed) with their first deposit account."""
    connection = await asyncpg.connect(pg_dsn(database))
    try:
        ids = [row["id"] for row in await connection.fetch("SELECT id FROM customers ORDER BY id")]
        chosen = sorted(random.Random(seed).sample(ids, min(count, len(ids))))
        people = await connection.fetch("SELECT id, ci FROM customers WHERE id = ANY($1::bigint[])", chosen)
        accounts = await connection.fetch(
            "SELECT customer_id, payload FROM records WHERE api_id = '은행-001' AND deleted IS false"
            " AND customer_id = ANY($1::bigint[]) ORDER BY customer_id, seq, id",
            chosen,
        )
    finally:
        await connection.close()
    deposit: dict[int, tuple[str, str | None]] = {}
    for row in accounts:
        payload = json.loads(row["payload"])
        if str(payload.get("account_type", "")).startswith(DEPOSIT_PREFIX):
            deposit.setdefault(row["customer_id"], (str(payload["account_num"]), payload.get("seqno")))
    return [
        Candidate(row["id"], row["ci"], *deposit[row["id"]])
        for row in sorted(people, key=lambda row: int(row["id"]))
        if row["id"] in deposit
    ]


def consent_terms() -> TransmissionRequest:
    """bank.list + bank.deposit over every asset, transaction memos included, for 300 days."""
    end = to_dtime(now_kst() + timedelta(days=300))
    return TransmissionRequest(
        snd_org_code=PROVIDER_ORG,
        rcv_org_code=OPERATOR_ORG,
        end_date=end,
        purpose="자산 조회",
        holding_period=end,
        target_info=[TargetInfo(scope="bank.list"), TargetInfo(scope="bank.deposit")],
        is_consent_trans_memo=True,
    )


def grant_form(ca: CertificateAuthority, candidate: Candidate, terms: TransmissionRequest) -> dict[str, str]:
    """The 통합인증-002 form an operator posts after the person signed the consent at the CA."""
    key, certificate = ca.issue_person(candidate.ci)
    nonce = urlsafe_nonce()
    der = cms.sign(encode_signed_content(terms, nonce), key, certificate)
    password = base64.urlsafe_b64encode(der).rstrip(b"=").decode("ascii")
    return {
        "tx_id": new_tx_id(OPERATOR_ORG, PROVIDER_ORG, CA_CODE),
        "org_code": PROVIDER_ORG,
        "grant_type": "password",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "ca_code": CA_CODE,
        "username": candidate.ci,
        "request_type": "1",
        "password_len": str(len(password)),
        "password": password,
        "auth_type": "1",
        "consent_type": "0",
        "consent_nonce": nonce,
        "cert_tx_id": "CERTTX" + hashlib.sha256(nonce.encode("ascii")).hexdigest()[:20],
    }


async def grant_tokens(
    provider_url: str, ca: CertificateAuthority, candidates: Sequence[Candidate], *, concurrency: int = 8
) -> list[Sample]:
    """Post each candidate's signed consent to the provider's token endpoint; returns the issued access tokens."""
    terms = consent_terms()
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=provider_url, timeout=60.0) as client:

        async def grant(candidate: Candidate) -> Sample:
            form = grant_form(ca, candidate, terms)
            async with gate:
                response = await client.post(
                    "/oauth/2.0/token",
                    data=form,
                    headers={"x-api-tran-id": new_tran_id(OPERATOR_ORG, Party.OPERATOR)},
                )
            if response.status_code != 200:
                raise RuntimeError(f"the provider refused a consent: HTTP {response.status_code} {response.text[:300]}")
            token = str(response.json()["access_token"])
            return Sample(candidate.customer_id, token, candidate.account_num, candidate.seqno)

        return list(await asyncio.gather(*(grant(candidate) for candidate in candidates)))
