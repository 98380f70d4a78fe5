"""OAuth 2.0 token endpoint (client credentials and JWT bearer), bearer tokens, and the TLS material.

simple-salesforce hard-codes ``https://``, so the emulator serves TLS with a certificate signed by a
throw-away CA written to the state folder; clients trust that CA file (the connection names it).
Tokens expire after ``--token-ttl`` seconds of the emulated clock, so moving the clock or the
``expire_token`` fault exercises re-authentication exactly as an expired session would.
"""

from __future__ import annotations

import base64
import ipaddress
import secrets
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sandbox.salesforce.clock import Clock
from sandbox.salesforce.errors import ApiError

CLIENT_ID = "3MVG9sandboxEmulatorConsumerKey"
CLIENT_SECRET = "sandbox-emulator-consumer-secret"  # noqa: S105 - a public, local-only emulator credential
ORG_ID = "00D4x0000000001EAA"
USER_ID = "0054x0000000001AAA"
JWT_AUDIENCES = {"https://login.salesforce.com", "https://test.salesforce.com"}


class OAuthError(Exception):
    """OAuth errors are JSON objects ``{"error", "error_description"}`` with 400, not REST error arrays."""

    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


class Tokens:
    def __init__(self, clock: Clock, ttl_seconds: float, public_key_pem: bytes, instance_url: str):
        self.clock = clock
        self.ttl = ttl_seconds
        self.public_key_pem = public_key_pem
        self.instance_url = instance_url
        self._tokens: dict[str, datetime] = {}
        self._lock = threading.Lock()
        self.issued = 0

    def issue(self) -> dict:
        token = ORG_ID[:15] + "!" + secrets.token_urlsafe(48)
        now = self.clock.now()
        with self._lock:
            self._tokens[token] = now + timedelta(seconds=self.ttl)
            self.issued += 1
        return {"access_token": token, "instance_url": self.instance_url, "api_instance_url": self.instance_url,
                "id": f"https://login.salesforce.com/id/{ORG_ID}/{USER_ID}", "token_type": "Bearer",
                "scope": "api", "issued_at": str(int(now.timestamp() * 1000)),
                "signature": base64.b64encode(secrets.token_bytes(32)).decode()}

    def check(self, authorization: str | None) -> str:
        token = (authorization or "")[7:].strip() if (authorization or "").lower().startswith("bearer ") else ""
        with self._lock:
            expiry = self._tokens.get(token)
        if expiry is None or expiry <= self.clock.now():
            raise ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid")
        return token

    def revoke(self, token: str | None = None) -> None:
        with self._lock:
            if token is None:
                self._tokens.clear()
            else:
                self._tokens.pop(token, None)

    def grant(self, form: dict, authorization: str | None) -> dict:
        grant_type = form.get("grant_type")
        if grant_type == "client_credentials":
            client_id, client_secret = form.get("client_id"), form.get("client_secret")
            if authorization and authorization.lower().startswith("basic "):
                try:
                    decoded = base64.b64decode(authorization[6:].strip()).decode()
                except (ValueError, UnicodeDecodeError):
                    raise OAuthError("invalid_client", "invalid client credentials") from None
                client_id, _, client_secret = decoded.partition(":")
            if client_id != CLIENT_ID:
                raise OAuthError("invalid_client_id", "client identifier invalid")
            if client_secret != CLIENT_SECRET:
                raise OAuthError("invalid_client", "invalid client credentials")
            return self.issue()
        if grant_type == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return self._jwt(form.get("assertion") or "")
        if grant_type in ("password", "refresh_token", "authorization_code"):
            raise OAuthError("unsupported_grant_type", f"grant type {grant_type} is not enabled in this emulator")
        raise OAuthError("unsupported_grant_type", "grant type not supported")

    def _jwt(self, assertion: str) -> dict:
        import jwt

        audiences = sorted(JWT_AUDIENCES | {self.instance_url})
        try:
            claims = jwt.decode(assertion, self.public_key_pem, algorithms=["RS256"], audience=audiences,
                                options={"require": ["exp", "iss", "sub", "aud"]})
        except jwt.ExpiredSignatureError:
            raise OAuthError("invalid_grant", "expired authorization code") from None
        except jwt.InvalidAudienceError:
            raise OAuthError("invalid_grant", "audience is invalid") from None
        except jwt.PyJWTError:
            raise OAuthError("invalid_grant", "invalid assertion") from None
        if claims["iss"] != CLIENT_ID:
            raise OAuthError("invalid_client_id", "client identifier invalid")
        return self.issue()


def ensure_tls_material(state_dir: Path) -> dict[str, Path]:
    """CA + server certificate (SAN 127.0.0.1, localhost) and an RSA key pair for JWT, created once."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    paths = {"ca": state_dir / "salesforce-ca.pem", "cert": state_dir / "salesforce-server.pem",
             "key": state_dir / "salesforce-server.key", "jwt_key": state_dir / "salesforce-jwt-private-key.pem",
             "jwt_public": state_dir / "salesforce-jwt-public-key.pem"}
    if all(p.exists() for p in paths.values()):
        return paths
    now = datetime.now(UTC)
    pem = serialization.Encoding.PEM
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sfdd sandbox Salesforce emulator CA")])
    ca_cert = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
               .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=3650))
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                            content_commitment=False, key_encipherment=False,
                                            data_encipherment=False, key_agreement=False, encipher_only=False,
                                            decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
               .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=825))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    jwt_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    no_enc = serialization.NoEncryption()
    paths["ca"].write_bytes(ca_cert.public_bytes(pem))
    paths["cert"].write_bytes(cert.public_bytes(pem))
    paths["key"].write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, no_enc))
    paths["jwt_key"].write_bytes(jwt_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, no_enc))
    paths["jwt_public"].write_bytes(jwt_key.public_key().public_bytes(
        pem, serialization.PublicFormat.SubjectPublicKeyInfo))
    for secret in ("key", "jwt_key"):
        paths[secret].chmod(0o600)
    return paths


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
