"""The real provider app (`openmydata.provider.app.create_app`) under uvicorn, for the benchmark: PostgreSQL, bank
only, no portal (the operator service is seeded with `registry.register_service`), consents verified locally
against the benchmark's CA.

Run: `python -m bench.provider_server --port 8101 --database omd_bench_provider --trust-file ca.pem`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn

from bench.common import CA_CODE, CURSOR_SECRET, DB_NAME, HOST, PROVIDER_ORG, TOKEN_SECRET, sqlalchemy_url
from openmydata.provider.app import create_app
from openmydata.provider.settings import ProviderSettings


def settings(database: str, trust_file: Path, port: int) -> ProviderSettings:
    return ProviderSettings(
        org_code=PROVIDER_ORG,
        industries=["bank"],
        database_url=sqlalchemy_url(database),
        public_url=f"http://{HOST}:{port}",
        portal_url="",
        ca_code=CA_CODE,
        token_secret=TOKEN_SECRET,
        cursor_secret=CURSOR_SECRET,
        consent_verifier="local",
        consent_trust_roots_file=trust_file,
        # The load generator reuses 500 tokens as fast as it can; the per-token limit is not what is measured.
        rate_limit_per_minute=10_000_000,
        # The benchmark compares the application with a bare Starlette baseline, both over plain HTTP on loopback;
        # TLS handshakes and the peer check are outside the comparison (docs/benchmarks.md).
        insecure_plain_http=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database", default=DB_NAME)
    parser.add_argument("--trust-file", type=Path, required=True)
    args = parser.parse_args()
    app = create_app(settings(args.database, args.trust_file, args.port))
    uvicorn.run(app, host=HOST, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
