"""Client assertions: certificate credentials and workload identity federation (graph-behaviour §8).

Both arrive the same way, `client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`
plus a JWT in `client_assertion`. A JWT the app signed itself (iss = sub = client_id) is checked against the
app's registered certificates; any other issuer is an external identity provider (GitHub Actions, a
Kubernetes cluster) and must match one of the app's federated identity credentials, case-sensitively.
Errors carry the AADSTS codes and texts real tenants give, as recorded in public issues (cited below).
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Mapping, MutableSequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from entragit.sim.auth import CLIENT_AUTHENTICATORS, JWT_BEARER, Authority, ClientApp, FederatedCredential, TokenError
from entragit.sim.clock import SimClock

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"
ALGORITHMS = ["RS256", "PS256"]  # msal signs RS256 with a SHA-1 thumbprint, PS256 with a SHA-256 one
CERTIFICATE_DOCS = "Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials ."
FEDERATION_DOCS = "https://learn.microsoft.com/entra/workload-id/workload-identity-federation"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass(frozen=True)
class ClientCertificate:
    """A self-signed certificate registered on the app, with the private key a client signs assertions with."""

    certificate: x509.Certificate
    private_key: rsa.RSAPrivateKey

    @classmethod
    def generate(cls, common_name: str) -> ClientCertificate:
        key = _rsa_key()
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        now = datetime.now(timezone.utc)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365))
            .sign(key, hashes.SHA256())
        )
        return cls(certificate, key)

    @property
    def certificate_pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()

    @property
    def private_key_pem(self) -> str:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()

    @property
    def thumbprint(self) -> str:
        """SHA-1 of the DER certificate in hex, as the portal shows it and msal's `thumbprint` takes it."""
        return self.certificate.fingerprint(hashes.SHA1()).hex().upper()


class Federation:
    """The external identity providers the tenant trusts, and a way to mint their tokens in tests.

    Each issuer gets a signing key on first use; the tenant trusts exactly those keys, so a token signed
    any other way fails signature validation as a forged one would.
    """

    def __init__(self, authority: Authority, app: ClientApp, clock: SimClock) -> None:
        self._authority = authority
        self._app = app
        self._clock = clock
        self._keys: dict[str, rsa.RSAPrivateKey] = {}

    @property
    def credentials(self) -> MutableSequence[FederatedCredential]:
        return self._app.federated

    def add_credential(
        self, subject: str, issuer: str = GITHUB_ISSUER, audiences: tuple[str, ...] = (EXCHANGE_AUDIENCE,), name: str | None = None
    ) -> FederatedCredential:
        """What POST /applications/{id}/federatedIdentityCredentials does to the simulator's own app."""
        credential = FederatedCredential(name or f"federated-{len(self._app.federated) + 1}", issuer, subject, audiences)
        self._app.federated.append(credential)
        return credential

    def issue(self, subject: str, audience: str = EXCHANGE_AUDIENCE, issuer: str | None = None, expires_in: int = 600) -> str:
        """A token from `issuer` (GitHub Actions by default), as $ACTIONS_ID_TOKEN_REQUEST_URL would hand out."""
        issuer = issuer or GITHUB_ISSUER
        key = self._keys.get(issuer)
        if key is None:
            key = self._keys[issuer] = _rsa_key()
            self._authority.trusted_issuers[issuer] = key.public_key()
        now = int(self._clock.now())
        claims = {"iss": issuer, "sub": subject, "aud": audience, "iat": now, "nbf": now, "exp": now + expires_in, "jti": str(uuid.uuid4())}
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": _b64url(hashlib.sha256(issuer.encode()).digest()[:16])})


# --- the token endpoint's side --------------------------------------------------------------------------------


def _invalid_client(aadsts: int, text: str, status: int = 401) -> TokenError:
    return TokenError(status, "invalid_client", aadsts, text)


def _stamp(seconds: float) -> str:
    # AADSTS700024 prints times with seven fractional digits (Azure/login#180, msal-dotnet#4951).
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def _unverified(assertion: str) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        header = jwt.get_unverified_header(assertion)
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise TokenError(400, "invalid_request", 50027, "JWT token is invalid or malformed.") from None
    if not isinstance(claims.get("exp"), (int, float)):
        raise TokenError(400, "invalid_request", 50027, "JWT token is invalid or malformed.")
    return header, claims


def _verify(assertion: str, key: Any, thumbprint: str, app: ClientApp) -> None:
    try:
        jwt.decode(assertion, key=key, algorithms=ALGORITHMS, options={"verify_exp": False, "verify_nbf": False, "verify_aud": False, "verify_iat": False})
    except jwt.PyJWTError:
        # Key found, signature wrong (AzureAD/passport-azure-ad#453 has the not-found variant of this text).
        raise _invalid_client(
            700027,
            "Client assertion contains an invalid signature. [Reason - The provided signature value did not match the "
            f"expected signature value., Thumbprint of key used by client: '{thumbprint}', Please visit the Azure Portal, "
            f"Graph Explorer or directly use MS Graph to see configured keys for app Id '{app.client_id}'.]",
        ) from None


def _key_not_found(thumbprint: str, app: ClientApp) -> TokenError:
    return _invalid_client(
        700027,
        f"Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by "
        f"client: '{thumbprint}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see "
        f"configured keys for app Id '{app.client_id}'.]",
    )


def _check_lifetime(claims: Mapping[str, Any], now: float) -> None:
    not_before = float(claims.get("nbf") or 0)
    expires = float(claims["exp"])
    if now < not_before or now >= expires:
        raise _invalid_client(
            700024,
            f"Client assertion is not within its valid time range. Current time: {_stamp(now)}, assertion valid from "
            f"{_stamp(not_before)}, expiry time of assertion {_stamp(expires)}. {CERTIFICATE_DOCS}",
        )


def _check_certificate(authority: Authority, app: ClientApp, assertion: str, header: Mapping[str, Any], claims: Mapping[str, Any]) -> None:
    if claims.get("sub") != claims.get("iss"):
        raise _invalid_client(50048, "Subject mismatches Issuer claim in the client assertion.")
    audiences = claims.get("aud")
    audiences = audiences if isinstance(audiences, list) else [audiences]
    if not any(isinstance(a, str) and a.lower() in authority.token_endpoints() for a in audiences):
        # msal-dotnet#2746 records this text for an assertion meant for another authority.
        raise _invalid_client(700023, f"Client assertion audience claim does not match Realm issuer. {CERTIFICATE_DOCS}")
    by_thumbprint = {}
    for certificate in app.certificates:
        by_thumbprint[("x5t#S256", certificate.fingerprint(hashes.SHA256()))] = certificate
        by_thumbprint[("x5t", certificate.fingerprint(hashes.SHA1()))] = certificate
    presented = [(name, _b64url_decode(str(header[name]))) for name in ("x5t#S256", "x5t") if name in header]
    thumbprint = presented[0][1].hex().upper() if presented else ""
    found = next((by_thumbprint[p] for p in presented if p in by_thumbprint), None)
    if found is None:
        raise _key_not_found(thumbprint, app)
    _verify(assertion, found.public_key(), thumbprint, app)
    _check_lifetime(claims, authority.clock.now())


def _check_federated(authority: Authority, app: ClientApp, assertion: str, header: Mapping[str, Any], claims: Mapping[str, Any]) -> None:
    issuer, subject = str(claims.get("iss")), str(claims.get("sub"))
    audiences = claims.get("aud")
    audience_list = [str(a) for a in (audiences if isinstance(audiences, list) else [audiences])]
    status = authority.settings.federated_error_status
    no_match = _invalid_client(
        70021,
        f"No matching federated identity record found for presented assertion. Assertion Issuer: '{issuer}'. "
        f"Assertion Subject: '{subject}'. Assertion Audience: '{', '.join(audience_list)}'. {FEDERATION_DOCS}",
        status,
    )
    if not any(f.issuer.lower() == issuer.lower() for f in app.federated):
        raise no_match
    # The issuer's signing keys (its JWKS) identify a key by 'kid'; Entra reports that as the thumbprint.
    key_id = str(header.get("kid", ""))
    key = authority.trusted_issuers.get(issuer)
    if key is None:
        raise _key_not_found(key_id, app)
    _verify(assertion, key, key_id, app)
    _check_lifetime(claims, authority.clock.now())

    def matches(credential: FederatedCredential, fold: bool) -> bool:
        norm = str.lower if fold else str
        return (
            norm(credential.issuer) == norm(issuer)
            and norm(credential.subject) == norm(subject)
            and any(norm(a) == norm(b) for a in credential.audiences for b in audience_list)
        )

    if any(matches(f, fold=False) for f in app.federated):
        return
    checks = "Check your federated identity credential Subject, Audience and Issuer against the presented assertion."
    if any(matches(f, fold=True) for f in app.federated):
        # Matching became case-sensitive in 2024/25 (Azure/login#515 quotes this text).
        raise _invalid_client(
            7002138,
            f"No matching federated identity record found for presented assertion subject '{subject}'. The subject "
            f"matches with case-insensitive comparison, but not with case-sensitive comparison. {checks} See "
            f"documentation at: {FEDERATION_DOCS}. See breaking change notification and remediation at: "
            "https://learn.microsoft.com/en-us/entra/identity-platform/reference-breaking-changes#august-2024.",
            status,
        )
    if any(f.issuer == issuer and set(f.audiences) & set(audience_list) for f in app.federated):
        # Issuer and audience known, subject not (Azure/login#482).
        raise _invalid_client(
            700213, f"No matching federated identity record found for presented assertion subject '{subject}'. {checks} {FEDERATION_DOCS}", status
        )
    raise no_match


def check_assertion(authority: Authority, app: ClientApp, form: Mapping[str, str]) -> None:
    assertion = form.get("client_assertion", "")
    header, claims = _unverified(assertion)
    if str(claims.get("iss", "")).lower() == app.client_id.lower():
        _check_certificate(authority, app, assertion, header, claims)
    else:
        _check_federated(authority, app, assertion, header, claims)


CLIENT_AUTHENTICATORS[f"assertion:{JWT_BEARER}"] = check_assertion
