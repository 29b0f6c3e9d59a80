from __future__ import annotations

import asyncio
import base64
import binascii
import json
import socket
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from openmydata.kit.errors import PeerUnavailable
from openmydata.kit.keys import (
    DataKeys,
    KeyManager,
    KeyManagerError,
    LocalKeyFile,
    Sealer,
    VaultTransit,
    make_key_manager,
    person_context,
)

VAULT_TOKEN = "hvs.test-token"
VAULT_URL = "http://vault.test:8200"


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def files_in(directory: Path) -> list[Path]:
    return list(directory.iterdir())


def flip_byte(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


class FakeVaultTransit:
    """The two transit endpoints as HashiCorp documents them, for one key created with `derived=true`.

    `POST /v1/{mount}/encrypt/{name}` takes `{"plaintext": b64, "context": b64}` and answers
    `{"data": {"ciphertext": "vault:v<n>:<b64>"}}`; `POST /v1/{mount}/decrypt/{name}` takes
    `{"ciphertext", "context"}` and answers `{"data": {"plaintext": b64}}`. Errors are `{"errors": [...]}`
    (400 for bad input or a failed decryption, 403 for a bad token, 503 while sealed).
    """

    def __init__(self, mount: str = "transit", key_name: str = "openmydata") -> None:
        self.mount = mount
        self.key_name = key_name
        self.versions = [AESGCM.generate_key(bit_length=256)]
        self.sealed = False
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.app = Starlette(
            routes=[
                Route("/v1/{mount}/encrypt/{name}", self.encrypt, methods=["POST"]),
                Route("/v1/{mount}/decrypt/{name}", self.decrypt, methods=["POST"]),
            ]
        )

    @staticmethod
    def error(status: int, message: str) -> JSONResponse:
        return JSONResponse({"errors": [message]}, status_code=status)

    def derived_key(self, version: int, context: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=context).derive(self.versions[version - 1])

    async def checked(self, request: Request) -> dict[str, Any] | JSONResponse:
        if self.sealed:
            return self.error(503, "Vault is sealed")
        if request.headers.get("x-vault-token") != VAULT_TOKEN:
            return self.error(403, "permission denied")
        if request.path_params["mount"] != self.mount or request.path_params["name"] != self.key_name:
            return self.error(400, "encryption key not found")
        body = await request.json()
        self.requests.append((request.url.path, body))
        if not body.get("context"):
            return self.error(400, "missing 'context' for key derivation; the key was created using a derived key")
        return dict(body)

    async def encrypt(self, request: Request) -> JSONResponse:
        body = await self.checked(request)
        if isinstance(body, JSONResponse):
            return body
        try:
            plaintext = base64.b64decode(body["plaintext"], validate=True)
            context = base64.b64decode(body["context"], validate=True)
        except (KeyError, binascii.Error):
            return self.error(400, "failed to base64-decode plaintext or context")
        version = len(self.versions)
        nonce = AESGCM.generate_key(bit_length=128)[:12]
        sealed = AESGCM(self.derived_key(version, context)).encrypt(nonce, plaintext, None)
        ciphertext = f"vault:v{version}:" + base64.b64encode(nonce + sealed).decode()
        return JSONResponse({"request_id": "r", "data": {"ciphertext": ciphertext, "key_version": version}})

    async def decrypt(self, request: Request) -> JSONResponse:
        body = await self.checked(request)
        if isinstance(body, JSONResponse):
            return body
        try:
            _, version_text, payload = body["ciphertext"].split(":", 2)
            version = int(version_text.removeprefix("v"))
            raw = base64.b64decode(payload, validate=True)
            context = base64.b64decode(body["context"], validate=True)
        except (KeyError, ValueError):
            return self.error(400, "invalid ciphertext")
        if not 1 <= version <= len(self.versions):
            return self.error(400, "invalid key version")
        try:
            plaintext = AESGCM(self.derived_key(version, context)).decrypt(raw[:12], raw[12:], None)
        except InvalidTag:
            return self.error(400, "cipher: message authentication failed")
        return JSONResponse({"request_id": "r", "data": {"plaintext": base64.b64encode(plaintext).decode()}})


@pytest.fixture
def vault() -> FakeVaultTransit:
    return FakeVaultTransit()


@pytest.fixture
async def vault_http(vault: FakeVaultTransit) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=vault.app)) as client:
        yield client


@pytest.fixture
def transit(vault_http: httpx.AsyncClient) -> VaultTransit:
    return VaultTransit(vault_http, VAULT_URL + "/", VAULT_TOKEN, "openmydata")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)


class TestLocalKeyFile:
    async def test_round_trip_creates_the_key_file_with_mode_0600(self, tmp_path: Path) -> None:
        path = tmp_path / "secrets" / "master.json"
        manager = LocalKeyFile(path)
        assert not path.exists()  # nothing created before first use
        key = AESGCM.generate_key(bit_length=256)

        wrapped = await manager.wrap(key, "person:42")

        assert wrapped.startswith("v1:")
        assert await manager.unwrap(wrapped, "person:42") == key
        assert mode_of(path) == 0o600
        assert mode_of(path.parent) == 0o700
        document = json.loads(path.read_text())
        assert document["current"] == 1
        assert len(base64.urlsafe_b64decode(document["keys"]["1"])) == 32
        assert isinstance(manager, KeyManager)
        assert manager.name == "local"

    async def test_wrapping_is_randomised(self, tmp_path: Path) -> None:
        manager = LocalKeyFile(tmp_path / "k.json")
        key = b"k" * 32
        assert await manager.wrap(key, "person:1") != await manager.wrap(key, "person:1")

    async def test_a_wrapped_key_does_not_unwrap_for_another_person(self, tmp_path: Path) -> None:
        manager = LocalKeyFile(tmp_path / "k.json")
        wrapped = await manager.wrap(b"k" * 32, "person:42")
        with pytest.raises(KeyManagerError, match="context"):
            await manager.unwrap(wrapped, "person:43")

    async def test_tampered_wrapped_key_fails(self, tmp_path: Path) -> None:
        manager = LocalKeyFile(tmp_path / "k.json")
        wrapped = await manager.wrap(b"k" * 32, "person:42")
        version, body = wrapped.split(":")
        raw = base64.urlsafe_b64decode(body)
        for index in (0, 12, len(raw) - 1):  # nonce, ciphertext, tag
            tampered = f"{version}:{base64.urlsafe_b64encode(flip_byte(raw, index)).decode()}"
            with pytest.raises(KeyManagerError):
                await manager.unwrap(tampered, "person:42")

    @pytest.mark.parametrize("wrapped", ["", "v1", "v1:", "x1:AAAA", "v:AAAA", "v1:not base64!", "v1:AAAA", "v9:AAAA"])
    async def test_malformed_wrapped_values_fail(self, tmp_path: Path, wrapped: str) -> None:
        manager = LocalKeyFile(tmp_path / "k.json")
        with pytest.raises(KeyManagerError):
            await manager.unwrap(wrapped, "person:42")

    async def test_empty_context_is_refused(self, tmp_path: Path) -> None:
        manager = LocalKeyFile(tmp_path / "k.json")
        with pytest.raises(ValueError, match="context"):
            await manager.wrap(b"k" * 32, "")

    async def test_another_key_file_cannot_unwrap(self, tmp_path: Path) -> None:
        wrapped = await LocalKeyFile(tmp_path / "a.json").wrap(b"k" * 32, "person:42")
        with pytest.raises(KeyManagerError):
            await LocalKeyFile(tmp_path / "b.json").unwrap(wrapped, "person:42")

    async def test_rotation_keeps_old_versions_for_unwrapping(self, tmp_path: Path) -> None:
        path = tmp_path / "k.json"
        manager = LocalKeyFile(path)
        old_key, new_key = b"o" * 32, b"n" * 32
        old = await manager.wrap(old_key, "person:42")

        assert manager.rotate() == 2

        new = await manager.wrap(new_key, "person:42")
        assert old.startswith("v1:")
        assert new.startswith("v2:")
        assert manager.current_version == 2
        assert await manager.unwrap(old, "person:42") == old_key
        assert await manager.unwrap(new, "person:42") == new_key
        assert mode_of(path) == 0o600
        assert sorted(json.loads(path.read_text())["keys"]) == ["1", "2"]
        assert files_in(tmp_path) == [path]  # no temporary file left behind
        reopened = LocalKeyFile(path)  # persisted: a restarted process reads both versions
        assert await reopened.unwrap(old, "person:42") == old_key
        assert await reopened.unwrap(new, "person:42") == new_key

    async def test_a_rotation_by_another_process_is_picked_up(self, tmp_path: Path) -> None:
        path = tmp_path / "k.json"
        reader, rotator = LocalKeyFile(path), LocalKeyFile(path)
        await reader.wrap(b"k" * 32, "person:1")  # loads version 1 only
        rotator.rotate()
        wrapped = await rotator.wrap(b"r" * 32, "person:1")
        assert wrapped.startswith("v2:")
        assert await reader.unwrap(wrapped, "person:1") == b"r" * 32

    async def test_a_key_file_readable_by_others_is_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "k.json"
        await LocalKeyFile(path).wrap(b"k" * 32, "person:1")
        path.chmod(0o644)
        with pytest.raises(KeyManagerError, match="0600"):
            await LocalKeyFile(path).wrap(b"k" * 32, "person:1")

    async def test_a_malformed_key_file_is_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "k.json"
        path.write_text('{"current": 1, "keys": {"1": "c2hvcnQ="}}')
        path.chmod(0o600)
        with pytest.raises(KeyManagerError, match="malformed"):
            await LocalKeyFile(path).wrap(b"k" * 32, "person:1")

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(key=st.binary(max_size=64), context=st.text(min_size=1, max_size=30))
    def test_round_trip_property(self, tmp_path: Path, key: bytes, context: str) -> None:
        manager = LocalKeyFile(tmp_path / "property.json")

        async def round_trip() -> bytes:
            return await manager.unwrap(await manager.wrap(key, context), context)

        assert asyncio.run(round_trip()) == key


class TestSealer:
    KEY = b"\x07" * 32
    AAD = b"person:42/accounts"

    def test_round_trip(self) -> None:
        sealed = Sealer.seal(self.KEY, b"secret", self.AAD)
        assert len(sealed) == 12 + len(b"secret") + 16
        assert b"secret" not in sealed
        assert Sealer.open(self.KEY, sealed, self.AAD) == b"secret"
        assert Sealer.seal(self.KEY, b"secret", self.AAD) != sealed  # random nonce

    def test_other_associated_data_fails(self) -> None:
        sealed = Sealer.seal(self.KEY, b"secret", self.AAD)
        with pytest.raises(KeyManagerError):
            Sealer.open(self.KEY, sealed, b"person:43/accounts")

    def test_tampered_ciphertext_fails(self) -> None:
        sealed = Sealer.seal(self.KEY, b"secret", self.AAD)
        for index in (0, 12, len(sealed) - 1):
            with pytest.raises(KeyManagerError):
                Sealer.open(self.KEY, flip_byte(sealed, index), self.AAD)
        with pytest.raises(KeyManagerError):
            Sealer.open(self.KEY, sealed[:20], self.AAD)

    def test_a_destroyed_key_leaves_the_data_unreadable(self) -> None:
        data_key = AESGCM.generate_key(bit_length=256)
        sealed = Sealer.seal(data_key, b'{"account_num":"1002-123-456789"}', self.AAD)
        del data_key  # crypto-shredding: the only copy of the key is gone
        replacement = AESGCM.generate_key(bit_length=256)
        with pytest.raises(KeyManagerError) as caught:
            Sealer.open(replacement, sealed, self.AAD)
        assert isinstance(caught.value.__cause__, InvalidTag)

    def test_key_length_is_checked(self) -> None:
        with pytest.raises(ValueError, match="32 bytes"):
            Sealer.seal(b"short", b"x", b"")

    def test_json_round_trip_is_url_safe_text(self) -> None:
        obj = {"name": "홍길동", "balance_amt": "1000.500", "list": [1, 2.5, None, True]}
        text = Sealer.seal_json(self.KEY, obj, self.AAD)
        assert set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=")
        assert Sealer.open_json(self.KEY, text, self.AAD) == obj
        with pytest.raises(KeyManagerError):
            Sealer.open_json(self.KEY, text, b"other")
        with pytest.raises(KeyManagerError):
            Sealer.open_json(self.KEY, text + "*", self.AAD)

    def test_json_refuses_nan(self) -> None:
        with pytest.raises(ValueError, match="JSON compliant"):
            Sealer.seal_json(self.KEY, float("nan"), self.AAD)

    def test_blind_index(self) -> None:
        ci = "Q" * 86 + "=="
        index = Sealer.blind_index(b"i" * 32, ci)
        assert index == Sealer.blind_index(b"i" * 32, ci)
        assert len(index) == 64
        assert int(index, 16) >= 0
        assert ci not in index
        assert index != Sealer.blind_index(b"j" * 32, ci)
        assert index != Sealer.blind_index(b"i" * 32, ci[:-3] + "A==")
        with pytest.raises(ValueError, match="16 bytes"):
            Sealer.blind_index(b"short", ci)

    @settings(max_examples=100, deadline=None)
    @given(plaintext=st.binary(max_size=512), aad=st.binary(max_size=64))
    def test_bytes_round_trip_property(self, plaintext: bytes, aad: bytes) -> None:
        assert Sealer.open(self.KEY, Sealer.seal(self.KEY, plaintext, aad), aad) == plaintext

    @settings(max_examples=100, deadline=None)
    @given(obj=json_values)
    def test_json_round_trip_property(self, obj: Any) -> None:
        assert Sealer.open_json(self.KEY, Sealer.seal_json(self.KEY, obj, self.AAD), self.AAD) == obj


class TestDataKeys:
    async def test_envelope_round_trip(self, tmp_path: Path) -> None:
        keys = DataKeys(LocalKeyFile(tmp_path / "k.json"))
        context = person_context(42)
        assert context == "person:42"

        key, wrapped = await keys.new_data_key(context)
        sealed = Sealer.seal_json(key, {"ci": "x"}, b"person:42")

        again = await keys.data_key(wrapped, context)
        assert again == key
        assert Sealer.open_json(again, sealed, b"person:42") == {"ci": "x"}
        other_key, _ = await keys.new_data_key(context)
        assert other_key != key

    async def test_a_wrapped_key_moved_to_another_person_fails(self, tmp_path: Path) -> None:
        keys = DataKeys(LocalKeyFile(tmp_path / "k.json"))
        _, wrapped = await keys.new_data_key(person_context(42))
        with pytest.raises(KeyManagerError):
            await keys.data_key(wrapped, person_context(43))

    async def test_crypto_shredding(self, tmp_path: Path) -> None:
        manager = LocalKeyFile(tmp_path / "k.json")
        keys = DataKeys(manager)
        context = person_context(7)
        key, wrapped = await keys.new_data_key(context)
        stored = Sealer.seal_json(key, {"account_num": "1002-123-456789"}, context.encode())
        # Withdrawal: the row holding `wrapped` is deleted and no copy of `key` is kept.
        del key, wrapped
        # The master key is still there, and the person may even come back and get a new data key:
        new_key, _ = await keys.new_data_key(context)
        with pytest.raises(KeyManagerError):
            Sealer.open_json(new_key, stored, context.encode())

    async def test_rewrap_after_rotation(self, tmp_path: Path) -> None:
        manager = LocalKeyFile(tmp_path / "k.json")
        keys = DataKeys(manager)
        key, wrapped = await keys.new_data_key("person:1")
        manager.rotate()
        rewrapped = await keys.rewrap(wrapped, "person:1")
        assert wrapped.startswith("v1:")
        assert rewrapped.startswith("v2:")
        assert await keys.data_key(rewrapped, "person:1") == key

    async def test_with_vault(self, transit: VaultTransit) -> None:
        keys = DataKeys(transit)
        key, wrapped = await keys.new_data_key("person:42")
        assert wrapped.startswith("vault:v1:")
        assert await keys.data_key(wrapped, "person:42") == key


class TestVaultTransit:
    async def test_round_trip_follows_the_documented_protocol(
        self, transit: VaultTransit, vault: FakeVaultTransit
    ) -> None:
        key = b"\x00\xffdata-key" * 3

        wrapped = await transit.wrap(key, "person:42")

        assert wrapped.startswith("vault:v1:")
        assert await transit.unwrap(wrapped, "person:42") == key
        (encrypt_path, encrypt_body), (decrypt_path, decrypt_body) = vault.requests
        assert encrypt_path == "/v1/transit/encrypt/openmydata"
        assert encrypt_body == {
            "plaintext": base64.b64encode(key).decode(),
            "context": base64.b64encode(b"person:42").decode(),
        }
        assert decrypt_path == "/v1/transit/decrypt/openmydata"
        assert decrypt_body == {"ciphertext": wrapped, "context": base64.b64encode(b"person:42").decode()}
        assert transit.name == "vault:transit/openmydata"
        assert isinstance(transit, KeyManager)

    async def test_wrong_context_fails(self, transit: VaultTransit) -> None:
        wrapped = await transit.wrap(b"k" * 32, "person:42")
        with pytest.raises(KeyManagerError, match="message authentication failed"):
            await transit.unwrap(wrapped, "person:43")

    async def test_tampered_ciphertext_fails(self, transit: VaultTransit) -> None:
        wrapped = await transit.wrap(b"k" * 32, "person:42")
        prefix, payload = wrapped.rsplit(":", 1)
        tampered = f"{prefix}:{base64.b64encode(flip_byte(base64.b64decode(payload), 20)).decode()}"
        with pytest.raises(KeyManagerError, match="message authentication failed"):
            await transit.unwrap(tampered, "person:42")

    async def test_not_a_vault_ciphertext_fails_without_asking(
        self, transit: VaultTransit, vault: FakeVaultTransit
    ) -> None:
        with pytest.raises(KeyManagerError):
            await transit.unwrap("v1:AAAA", "person:42")
        assert vault.requests == []

    async def test_bad_token_fails(self, vault_http: httpx.AsyncClient) -> None:
        transit = VaultTransit(vault_http, VAULT_URL, "wrong", "openmydata")
        with pytest.raises(KeyManagerError, match="403: permission denied"):
            await transit.wrap(b"k" * 32, "person:42")

    async def test_other_mount_and_key_names_are_used(self, vault_http: httpx.AsyncClient) -> None:
        transit = VaultTransit(vault_http, VAULT_URL, VAULT_TOKEN, "other", mount="kms")
        with pytest.raises(KeyManagerError, match="400: encryption key not found"):
            await transit.wrap(b"k" * 32, "person:42")

    async def test_sealed_vault_is_unavailable(self, transit: VaultTransit, vault: FakeVaultTransit) -> None:
        vault.sealed = True
        with pytest.raises(PeerUnavailable, match="503"):
            await transit.wrap(b"k" * 32, "person:42")

    async def test_vault_down_is_unavailable(self) -> None:
        with socket.socket() as probe:  # a loopback port nobody listens on
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        async with httpx.AsyncClient(trust_env=False) as http:
            transit = VaultTransit(http, f"http://127.0.0.1:{port}", VAULT_TOKEN, "openmydata")
            with pytest.raises(PeerUnavailable) as caught:
                await transit.wrap(b"k" * 32, "person:42")
        assert caught.value.peer == "vault"
        assert isinstance(caught.value.__cause__, httpx.ConnectError)


class TestMakeKeyManager:
    async def test_local(self, tmp_path: Path) -> None:
        manager = make_key_manager("local", path=tmp_path / "k.json")
        assert isinstance(manager, LocalKeyFile)
        assert await manager.unwrap(await manager.wrap(b"k" * 32, "person:1"), "person:1") == b"k" * 32
        await manager.aclose()

    async def test_vault_with_a_given_client(self, vault_http: httpx.AsyncClient) -> None:
        manager = make_key_manager(
            "vault", http=vault_http, base_url=VAULT_URL, token=VAULT_TOKEN, key_name="openmydata"
        )
        assert isinstance(manager, VaultTransit)
        assert await manager.unwrap(await manager.wrap(b"k" * 32, "person:1"), "person:1") == b"k" * 32
        await manager.aclose()
        assert not vault_http.is_closed  # not ours to close

    async def test_vault_owns_the_client_it_makes(self) -> None:
        manager = make_key_manager("vault", base_url=VAULT_URL, token=VAULT_TOKEN, key_name="k", mount="kms")
        assert manager.name == "vault:kms/k"
        await manager.aclose()
        assert isinstance(manager, VaultTransit)
        with pytest.raises(RuntimeError, match="closed"):  # httpx refuses to use a closed client
            await manager.wrap(b"k" * 32, "person:1")

    @pytest.mark.parametrize(
        ("kind", "settings_", "message"),
        [
            ("hsm", {}, "unknown key manager kind"),
            ("local", {}, "missing setting"),
            ("local", {"path": "k.json", "token": "t"}, "unknown setting"),
            ("vault", {"base_url": VAULT_URL, "token": VAULT_TOKEN}, "missing setting"),
            ("vault", {"base_url": VAULT_URL, "token": "", "key_name": "k"}, "non-empty string"),
        ],
    )
    def test_bad_settings(self, kind: Any, settings_: dict[str, Any], message: str) -> None:
        with pytest.raises(ValueError, match=message):
            make_key_manager(kind, **settings_)
