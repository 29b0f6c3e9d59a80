"""Envelope encryption for personal data at rest, so that withdrawing consent can destroy it (crypto-shredding).

Each person gets a random 256-bit *data key*. Their records are sealed with it (AES-256-GCM, `Sealer`), and only
the data key *wrapped* by a key manager is stored next to them. Destroying the wrapped data key (or the person's
row holding it) leaves ciphertext that nobody can open, including whoever holds the master key.

Key managers (`KeyManager`, chosen by settings through `make_key_manager`):

- `LocalKeyFile` (default): master keys in a JSON file created on first use with mode 0600. Wrapped values look
  like `v1:<base64url(nonce || ciphertext)>`; `rotate()` adds a new master key version and keeps the old ones so
  existing wrapped keys still unwrap.
- `VaultTransit` (production): HashiCorp Vault's transit engine (`POST /v1/{mount}/encrypt/{key}` and
  `/decrypt/{key}`, HashiCorp's "Transit Secrets Engine (API)" page). The wrapping context ("person:42") is sent as
  Vault's key-derivation `context`, so the transit key must be created with derivation enabled, e.g.
  `vault write -f transit/keys/openmydata derived=true` (`POST /v1/transit/keys/openmydata {"derived": true}`);
  a key without derivation ignores the context, so a wrapped key would unwrap for any person. No Vault server runs
  in this project's tests: the adapter is tested against an in-process ASGI app that implements the documented
  request and response JSON of those two endpoints, not against a real Vault.

In both managers the context is bound to the wrapped key (AES-GCM associated data locally, key derivation in
Vault): a wrapped data key copied to another person's row does not unwrap there.

`Sealer.blind_index` gives a keyed HMAC-SHA256 of a value (e.g. a CI) so that rows can be looked up by it without
storing it in clear. Its key must be stable across people (generate one data key for the index, keep its wrapped
form, unwrap it at start-up), unlike the per-person data keys.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import stat
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import httpx
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from openmydata.kit.errors import PeerUnavailable
from openmydata.kit.http import make_client, map_exceptions

KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # the 96-bit GCM nonce
TAG_BYTES = 16
KEY_FILE_FORMAT = "openmydata.kit.keys/local-key-file-1"


class KeyManagerError(Exception):
    """A key could not be wrapped or unwrapped, or sealed data does not open: wrong context, tampering, a
    destroyed key, a malformed value, or the key manager refused the request."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def _from_b64url(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), altchars=b"-_", validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise KeyManagerError("not URL-safe Base64") from exc


def _check_context(context: str) -> bytes:
    if not context:
        raise ValueError("a wrapping context (e.g. 'person:42') is required")
    return context.encode("utf-8")


def person_context(person_id: int | str) -> str:
    """The wrapping context of one person's data key: `person:<id>`."""
    return f"person:{person_id}"


@runtime_checkable
class KeyManager(Protocol):
    """Wraps and unwraps data keys under a master key the application never stores with the data."""

    @property
    def name(self) -> str: ...

    async def wrap(self, plaintext_key: bytes, context: str) -> str:
        """The data key encrypted under the current master key, bound to `context`."""
        ...

    async def unwrap(self, wrapped: str, context: str) -> bytes:
        """The data key, or `KeyManagerError` if `wrapped` was not made for `context` or was altered."""
        ...

    async def aclose(self) -> None:
        """Release resources the manager owns (an HTTP client it created)."""
        ...


class LocalKeyFile:
    """Master keys in a local JSON file: `{"format", "current": n, "keys": {"1": <base64url 32 bytes>, ...}}`.

    The file is created on first use with mode 0600 (its directory 0700 if created); a file readable by group or
    others is refused. Wrapped values are `v<n>:<base64url(nonce || AES-256-GCM(key, associated data=context))>`.
    """

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self._keys: dict[int, bytes] = {}
        self._current = 0

    @property
    def name(self) -> str:
        return "local"

    @property
    def current_version(self) -> int:
        self._ensure_loaded()
        return self._current

    async def wrap(self, plaintext_key: bytes, context: str) -> str:
        aad = _check_context(context)
        self._ensure_loaded()
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = AESGCM(self._keys[self._current]).encrypt(nonce, plaintext_key, aad)
        return f"v{self._current}:{_b64url(nonce + sealed)}"

    async def unwrap(self, wrapped: str, context: str) -> bytes:
        aad = _check_context(context)
        version, _, body = wrapped.partition(":")
        if not body or not version.startswith("v") or not version[1:].isdigit():
            raise KeyManagerError("not a wrapped key of the local key file")
        number = int(version[1:])
        self._ensure_loaded()
        if number not in self._keys:
            self._load()  # another process may have rotated since we read the file
        key = self._keys.get(number)
        if key is None:
            raise KeyManagerError(f"master key version {number} is not in the key file")
        raw = _from_b64url(body)
        if len(raw) < NONCE_BYTES + TAG_BYTES:
            raise KeyManagerError("wrapped key too short")
        try:
            return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad)
        except InvalidTag as exc:
            raise KeyManagerError("wrapped key does not unwrap for this context (wrong context or altered)") from exc

    def rotate(self) -> int:
        """Add a new master key version used for all new wraps; older versions stay for unwrapping. Returns it."""
        if self.path.exists():
            self._load()  # rotate from what is on disk, even if another process rotated meanwhile
        else:
            self._ensure_loaded()
        keys = dict(self._keys)
        version = max(keys) + 1
        keys[version] = secrets.token_bytes(KEY_BYTES)
        self._replace_file(keys, version)
        self._keys, self._current = keys, version
        return version

    async def aclose(self) -> None:
        return None

    # File handling -------------------------------------------------------------------------------------------

    def _ensure_loaded(self) -> None:
        if self._keys:
            return
        if not self.path.exists():
            self._create()
        self._load()

    def _create(self) -> None:
        if not self.path.parent.exists():
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        content = self._serialise({1: secrets.token_bytes(KEY_BYTES)}, 1)
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return  # another process created it first; load theirs
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())

    def _replace_file(self, keys: dict[int, bytes], current: int) -> None:
        temporary = self.path.with_name(f"{self.path.name}.{secrets.token_hex(6)}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(self._serialise(keys, current))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise

    @staticmethod
    def _serialise(keys: dict[int, bytes], current: int) -> bytes:
        document = {
            "format": KEY_FILE_FORMAT,
            "current": current,
            "keys": {str(version): _b64url(key) for version, key in sorted(keys.items())},
        }
        return json.dumps(document, indent=2).encode("utf-8")

    def _load(self) -> None:
        mode = stat.S_IMODE(self.path.stat().st_mode)
        if os.name == "posix" and mode & 0o077:
            raise KeyManagerError(f"key file {self.path} is accessible by group or others (mode {mode:o}); use 0600")
        try:
            document = json.loads(self.path.read_bytes())
            current = document["current"]
            keys = {int(version): _from_b64url(text) for version, text in document["keys"].items()}
        except (ValueError, KeyError, TypeError, AttributeError, KeyManagerError) as exc:
            raise KeyManagerError(f"key file {self.path} is malformed") from exc
        if document.get("format") != KEY_FILE_FORMAT or not isinstance(current, int) or current not in keys:
            raise KeyManagerError(f"key file {self.path} is malformed")
        if any(len(key) != KEY_BYTES for key in keys.values()):
            raise KeyManagerError(f"key file {self.path} holds a key that is not {KEY_BYTES} bytes")
        self._keys, self._current = keys, current


class VaultTransit:
    """HashiCorp Vault transit engine as key manager (`/v1/{mount}/encrypt/{key_name}`, `/decrypt/{key_name}`).

    The transit key must have been created with `derived=true`: the wrapping context is sent as the Base64
    `context` parameter, from which Vault derives the key, so a ciphertext only decrypts with the same context.
    Transport failures and Vault 502/503/504 (e.g. sealed) raise `PeerUnavailable`; any other error answer
    (`{"errors": [...]}`) raises `KeyManagerError`.
    """

    PEER = "vault"

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        token: str,
        key_name: str,
        mount: str = "transit",
        *,
        namespace: str | None = None,
        owns_client: bool = False,
    ):
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._token = token
        self.key_name = key_name
        self.mount = mount.strip("/")
        self._namespace = namespace
        self._owns_client = owns_client

    @property
    def name(self) -> str:
        return f"vault:{self.mount}/{self.key_name}"

    async def wrap(self, plaintext_key: bytes, context: str) -> str:
        body = {
            "plaintext": base64.b64encode(plaintext_key).decode("ascii"),
            "context": base64.b64encode(_check_context(context)).decode("ascii"),
        }
        data = await self._post("encrypt", body)
        ciphertext = data.get("ciphertext")
        if not isinstance(ciphertext, str) or not ciphertext.startswith("vault:v"):
            raise KeyManagerError("Vault answered encrypt without a ciphertext")
        return ciphertext

    async def unwrap(self, wrapped: str, context: str) -> bytes:
        if not wrapped.startswith("vault:v"):
            raise KeyManagerError("not a Vault transit ciphertext")
        body = {"ciphertext": wrapped, "context": base64.b64encode(_check_context(context)).decode("ascii")}
        data = await self._post("decrypt", body)
        plaintext = data.get("plaintext")
        if not isinstance(plaintext, str):
            raise KeyManagerError("Vault answered decrypt without a plaintext")
        try:
            return base64.b64decode(plaintext, validate=True)
        except binascii.Error as exc:
            raise KeyManagerError("Vault answered decrypt with a plaintext that is not Base64") from exc

    async def aclose(self) -> None:
        if self._owns_client:
            await self._http.aclose()

    async def _post(self, operation: Literal["encrypt", "decrypt"], body: dict[str, str]) -> dict[str, Any]:
        headers = {"X-Vault-Token": self._token}
        if self._namespace:
            headers["X-Vault-Namespace"] = self._namespace
        url = f"{self._base_url}/v1/{self.mount}/{operation}/{self.key_name}"
        with map_exceptions(self.PEER):
            response = await self._http.post(url, json=body, headers=headers)
        if response.status_code in (502, 503, 504):
            raise PeerUnavailable(self.PEER, f"HTTP {response.status_code} on {operation}")
        try:
            document = response.json()
        except ValueError:
            document = None
        if response.status_code != 200:
            errors = document.get("errors") if isinstance(document, dict) else None
            detail = "; ".join(str(error) for error in errors) if isinstance(errors, list) else "no error detail"
            raise KeyManagerError(f"Vault {operation} failed: HTTP {response.status_code}: {detail}")
        data = document.get("data") if isinstance(document, dict) else None
        if not isinstance(data, dict):
            raise KeyManagerError(f"Vault answered {operation} without a data object")
        return data


class Sealer:
    """AES-256-GCM with a data key: `nonce (12 bytes) || ciphertext || tag`, with caller-chosen associated data
    (e.g. `b"person:42/accounts"`) so that a sealed value cannot be moved to another row or column unnoticed."""

    @staticmethod
    def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + _aesgcm(key).encrypt(nonce, plaintext, aad)

    @staticmethod
    def open(key: bytes, sealed: bytes, aad: bytes) -> bytes:
        if len(sealed) < NONCE_BYTES + TAG_BYTES:
            raise KeyManagerError("sealed value too short")
        try:
            return _aesgcm(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)
        except InvalidTag as exc:
            raise KeyManagerError("sealed value does not open with this key and associated data") from exc

    @staticmethod
    def seal_json(key: bytes, obj: Any, aad: bytes) -> str:
        """`obj` as compact UTF-8 JSON, sealed, as URL-safe Base64 text (for a Text column). NaN is refused."""
        text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        return _b64url(Sealer.seal(key, text.encode("utf-8"), aad))

    @staticmethod
    def open_json(key: bytes, text: str, aad: bytes) -> Any:
        return json.loads(Sealer.open(key, _from_b64url(text), aad))

    @staticmethod
    def blind_index(key_for_index: bytes, value: str) -> str:
        """HMAC-SHA256 of `value` (UTF-8) as lower-case hex: equal values give equal indexes under one key."""
        if len(key_for_index) < KEY_BYTES // 2:
            raise ValueError("a blind-index key needs at least 16 bytes")
        return hmac.new(key_for_index, value.encode("utf-8"), hashlib.sha256).hexdigest()


def _aesgcm(key: bytes) -> AESGCM:
    if len(key) != KEY_BYTES:
        raise ValueError(f"a data key is {KEY_BYTES} bytes (AES-256)")
    return AESGCM(key)


class DataKeys:
    """The envelope: per-person data keys, generated here and stored only wrapped by the key manager."""

    def __init__(self, manager: KeyManager):
        self.manager = manager

    async def new_data_key(self, context: str) -> tuple[bytes, str]:
        """A fresh random data key and its wrapped form (store the latter, e.g. on the person's row)."""
        key = secrets.token_bytes(KEY_BYTES)
        return key, await self.manager.wrap(key, context)

    async def data_key(self, wrapped: str, context: str) -> bytes:
        """The data key from its wrapped form; `KeyManagerError` if it was not wrapped for `context`."""
        key = await self.manager.unwrap(wrapped, context)
        if len(key) != KEY_BYTES:
            raise KeyManagerError("unwrapped data key has the wrong length")
        return key

    async def rewrap(self, wrapped: str, context: str) -> str:
        """The same data key wrapped under the manager's current master key version (after a rotation)."""
        return await self.manager.wrap(await self.data_key(wrapped, context), context)


def make_key_manager(kind: Literal["local", "vault"], **settings: Any) -> KeyManager:
    """The key manager named by settings.

    - `kind="local"`: `path` (the key file).
    - `kind="vault"`: `base_url`, `token`, `key_name`, optional `mount` ("transit"), `namespace`, and `http` (an
      `httpx.AsyncClient`; without one the manager makes its own and closes it in `aclose()`).
    """
    if kind == "local":
        _check_settings(kind, settings, required={"path"}, optional=set())
        return LocalKeyFile(settings["path"])
    if kind == "vault":
        _check_settings(
            kind, settings, required={"base_url", "token", "key_name"}, optional={"mount", "namespace", "http"}
        )
        for field in ("base_url", "token", "key_name"):
            if not isinstance(settings[field], str) or not settings[field]:
                raise ValueError(f"vault key manager: {field} must be a non-empty string")
        http = settings.get("http")
        owns_client = http is None
        return VaultTransit(
            http if http is not None else make_client(),
            settings["base_url"],
            settings["token"],
            settings["key_name"],
            settings.get("mount") or "transit",
            namespace=settings.get("namespace"),
            owns_client=owns_client,
        )
    raise ValueError(f"unknown key manager kind {kind!r} (expected 'local' or 'vault')")


def _check_settings(kind: str, settings: dict[str, Any], *, required: set[str], optional: set[str]) -> None:
    missing = sorted(name for name in required if settings.get(name) is None)
    unknown = sorted(set(settings) - required - optional)
    if missing:
        raise ValueError(f"{kind} key manager: missing setting(s) {', '.join(missing)}")
    if unknown:
        raise ValueError(f"{kind} key manager: unknown setting(s) {', '.join(unknown)}")
