"""Instance settings: `defaults.toml` < the instance's TOML file < `MECENE_*` environment.

Settings are frozen dataclasses so that nothing changes them after start-up;
every error names the offending key so an operator can fix it at once.
"""

import dataclasses
import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from babel.numbers import list_currencies

DEFAULTS_PATH = Path(__file__).with_name("defaults.toml")
ENV_PREFIX = "MECENE_"


class ConfigError(ValueError):
    """A bad configuration value; `key` is `section.name` as written in TOML."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


@dataclass(frozen=True)
class InstanceSettings:
    domain: str
    name: str
    currency: str
    #: Currencies our creators may be paid in: ours, and those of the peers we let pay them in theirs.
    accepted_currencies: tuple[str, ...]
    bot_username: str
    link_code_minutes: int
    open_registrations: bool
    signups_per_address: int
    signup_window_minutes: int


@dataclass(frozen=True)
class ServerSettings:
    host: str
    port: int
    access_log: bool
    log_format: str
    metrics_port: int
    trusted_proxy: str


@dataclass(frozen=True)
class DatabaseSettings:
    url: str


@dataclass(frozen=True)
class FederationSettings:
    inbox_max_bytes: int
    fetch_max_bytes: int
    inbox_retry_base_seconds: float
    connect_timeout: float
    request_timeout: float
    max_redirects: int


@dataclass(frozen=True)
class DeliverySettings:
    max_attempts: int
    retry_base_seconds: float
    concurrency: int
    per_host_concurrency: int
    breaker_threshold: int
    breaker_cooldown_seconds: float
    poll_seconds: float
    lease_seconds: float


@dataclass(frozen=True)
class SettlementSettings:
    period: str
    fee_basis_points: int
    escrow_claim_months: int
    close_delay_minutes: int
    close_batch_donors: int
    close_lease_seconds: float
    tick_seconds: float
    alias_check_minutes: float
    payout_resend_minutes: float


@dataclass(frozen=True)
class PaymentSettings:
    providers: tuple[str, ...]
    minimum_topup: str
    stripe_secret_key: str
    stripe_publishable_key: str
    stripe_webhook_secret: str
    stripe_api_base: str
    stripe_js_url: str
    bank_account_holder: str
    bank_iban: str
    bank_bic: str
    minimum_withdrawal: str
    payout_cooling_off_hours: int

    @property
    def stripe_live(self) -> bool:
        """Live mode follows the key: a live key moves real money and accepts only live events."""
        return self.stripe_secret_key.startswith(("sk_live_", "rk_live_"))


@dataclass(frozen=True)
class MailSettings:
    enabled: bool
    smtp_host: str
    smtp_port: int
    smtp_security: str
    smtp_username: str
    smtp_password: str
    from_address: str
    timeout_seconds: float
    retry_base_seconds: float
    max_attempts: int
    poll_seconds: float
    lease_seconds: float
    verify_hours: int
    reset_minutes: int


@dataclass(frozen=True)
class DevSettings:
    insecure: bool


@dataclass(frozen=True)
class Settings:
    instance: InstanceSettings
    server: ServerSettings
    database: DatabaseSettings
    federation: FederationSettings
    delivery: DeliverySettings
    settlement: SettlementSettings
    payments: PaymentSettings
    mail: MailSettings
    dev: DevSettings

    @property
    def scheme(self) -> str:
        return "http" if self.dev.insecure else "https"

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.instance.domain}"

    def as_dict(self) -> dict[str, dict[str, Any]]:
        return dataclasses.asdict(self)


def _section_classes() -> dict[str, type]:
    """Each section's dataclass; a dataclass field's type may also be a string, which `_build` could not call."""
    classes: dict[str, type] = {}
    for section in fields(Settings):
        if not isinstance(section.type, type):
            raise TypeError(f"Settings.{section.name} is annotated {section.type!r}, not with a class")
        classes[section.name] = section.type
    return classes


SECTIONS = _section_classes()


def load(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Build settings from the defaults, an optional TOML file and the environment."""
    raw = _read_toml(DEFAULTS_PATH)
    if path is not None:
        _merge(raw, _read_toml(path), origin=str(path))
    _merge(raw, _from_environ(os.environ if environ is None else environ), origin="environment")
    settings = _with_own_currency(Settings(**{name: _build(cls, name, raw[name]) for name, cls in SECTIONS.items()}))
    _validate(settings)
    return settings


def _with_own_currency(settings: Settings) -> Settings:
    """No accepted currencies given means ours alone: a default that follows `instance.currency` wherever it is set."""
    if settings.instance.accepted_currencies:
        return settings
    instance = dataclasses.replace(settings.instance, accepted_currencies=(settings.instance.currency,))
    return dataclasses.replace(settings, instance=instance)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError("config", f"file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("config", f"{path} is not valid TOML: {exc}") from None


def _merge(base: dict[str, Any], overlay: Mapping[str, Any], *, origin: str) -> None:
    for section, values in overlay.items():
        if section not in base or not isinstance(values, Mapping):
            raise ConfigError(section, f"unknown section (from {origin})")
        for key, value in values.items():
            if key not in base[section]:
                raise ConfigError(f"{section}.{key}", f"unknown setting (from {origin})")
            base[section][key] = value


def _from_environ(environ: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """`MECENE_SERVER_PORT=9000` becomes {"server": {"port": "9000"}}; section names have no `_`."""
    found: dict[str, dict[str, str]] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name in {"MECENE_CONFIG", "MECENE_DATA_DIR"}:
            continue
        if name.startswith("MECENE_TEST_"):
            continue
        section, _, key = name[len(ENV_PREFIX):].lower().partition("_")
        if section not in SECTIONS or not key:
            raise ConfigError(name, "unknown environment setting")
        found.setdefault(section, {})[key] = value
    return found


def _build(cls: type, section: str, values: Mapping[str, Any]) -> Any:
    return cls(**{f.name: _coerce(f"{section}.{f.name}", f.type, values[f.name]) for f in fields(cls)})


def _coerce(key: str, kind: Any, value: Any) -> Any:
    """Accept TOML values of the right type, or text from the environment."""
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"true", "1", "yes", "false", "0", "no"}:
            return value.lower() in {"true", "1", "yes"}
        raise ConfigError(key, f"expected true or false, got {value!r}")
    if kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
        raise ConfigError(key, f"expected a whole number, got {value!r}")
    if kind == tuple[str, ...]:
        return _codes(key, value)
    if kind is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(key, f"expected a number, got {value!r}") from None
    if not isinstance(value, str):
        raise ConfigError(key, f"expected text, got {value!r}")
    return value


def _codes(key: str, value: Any) -> tuple[str, ...]:
    """A TOML list of strings, or comma-separated text from the environment; each code once, in the order given."""
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(key, f'expected a list of texts such as ["EUR", "CHF"], got {value!r}')
    return tuple(dict.fromkeys(value))


_DOMAIN = re.compile(r"[a-z0-9.-]+(:[0-9]{1,5})?")
_USERNAME = re.compile(r"[a-z0-9_]{1,30}")


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_currency(code: str) -> bool:
    """Three capitals that name a currency money can be counted in (the same list `settlement.money` knows)."""
    return bool(re.fullmatch(r"[A-Z]{3}", code)) and code in list_currencies()


def _validate(s: Settings) -> None:
    unknown = [code for code in s.instance.accepted_currencies if not _is_currency(code)]
    checks: list[tuple[str, bool, str]] = [
        ("instance.domain", bool(_DOMAIN.fullmatch(s.instance.domain)),
         "a lower-case host name with an optional port, without scheme or path"),
        ("instance.currency", _is_currency(s.instance.currency), "an ISO 4217 code such as EUR"),
        ("instance.accepted_currencies", not unknown,
         f'a list of ISO 4217 codes such as ["EUR", "CHF"] (unknown: {", ".join(unknown)})'),
        ("instance.accepted_currencies", s.instance.currency in s.instance.accepted_currencies,
         f"a list that includes instance.currency ({s.instance.currency}), the currency of our own wallets"),
        ("instance.bot_username", bool(_USERNAME.fullmatch(s.instance.bot_username)),
         "lower-case letters, digits and _"),
        ("instance.link_code_minutes", s.instance.link_code_minutes >= 1, "at least 1"),
        ("instance.signups_per_address", s.instance.signups_per_address >= 1, "at least 1"),
        ("instance.signup_window_minutes", s.instance.signup_window_minutes >= 1, "at least 1"),
        ("server.port", 0 <= s.server.port <= 65535, "a TCP port between 0 and 65535"),
        ("server.trusted_proxy", s.server.trusted_proxy == "" or _is_ip(s.server.trusted_proxy),
         "an IP address, or empty"),
        ("database.url", s.database.url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")),
         "a sqlite+aiosqlite:// or postgresql+asyncpg:// URL"),
        ("federation.inbox_max_bytes", s.federation.inbox_max_bytes > 0, "a positive size"),
        ("federation.inbox_retry_base_seconds", s.federation.inbox_retry_base_seconds > 0, "more than zero"),
        ("federation.fetch_max_bytes", s.federation.fetch_max_bytes > 0, "a positive size"),
        ("federation.max_redirects", s.federation.max_redirects >= 0, "zero or more"),
        ("delivery.max_attempts", s.delivery.max_attempts >= 1, "at least 1"),
        ("delivery.concurrency", s.delivery.concurrency >= 1, "at least 1"),
        ("delivery.per_host_concurrency", s.delivery.per_host_concurrency >= 1, "at least 1"),
        ("delivery.breaker_threshold", s.delivery.breaker_threshold >= 1, "at least 1"),
        ("settlement.period", s.settlement.period in ("monthly", "daily"), "monthly or daily"),
        ("settlement.fee_basis_points", 0 <= s.settlement.fee_basis_points <= 10_000, "between 0 and 10000"),
        ("settlement.escrow_claim_months", s.settlement.escrow_claim_months >= 1, "at least 1"),
        ("settlement.close_delay_minutes", s.settlement.close_delay_minutes >= 0, "zero or more"),
        ("settlement.close_batch_donors", s.settlement.close_batch_donors >= 1, "at least 1"),
        ("delivery.lease_seconds", s.delivery.lease_seconds > 0, "more than zero"),
        ("settlement.close_lease_seconds", s.settlement.close_lease_seconds > 0, "more than zero"),
        ("settlement.tick_seconds", s.settlement.tick_seconds > 0, "more than zero"),
        ("server.log_format", s.server.log_format in ("text", "json"), '"text" or "json"'),
        ("server.metrics_port", 0 <= s.server.metrics_port <= 65535, "a port number, or 0 for none"),
        ("settlement.payout_resend_minutes", s.settlement.payout_resend_minutes > 0, "more than zero"),
        ("settlement.alias_check_minutes", s.settlement.alias_check_minutes >= 0, "zero or more"),
    ]
    for key, ok, expected in checks + _payment_checks(s.payments) + _mail_checks(s.mail):
        if not ok:
            raise ConfigError(key, f"must be {expected}")


PROVIDERS = ("stripe", "bank")


def _payment_checks(p: PaymentSettings) -> list[tuple[str, bool, str]]:
    """Each enabled provider has what it needs, so a donor never meets a half-configured payment page."""
    unknown = [name for name in p.providers if name not in PROVIDERS]
    stripe, bank = "stripe" in p.providers, "bank" in p.providers
    return [
        ("payments.providers", not unknown, f'a list of "stripe" and "bank" (unknown: {", ".join(unknown)})'),
        ("payments.minimum_topup", bool(re.fullmatch(r"[0-9]{1,9}(\.[0-9]{1,3})?", p.minimum_topup)),
         'an amount with a dot for the decimals, such as "2.00"'),
        ("payments.minimum_withdrawal", bool(re.fullmatch(r"[0-9]{1,9}(\.[0-9]{1,3})?", p.minimum_withdrawal)),
         'an amount with a dot for the decimals, such as "10.00"'),
        ("payments.payout_cooling_off_hours", p.payout_cooling_off_hours >= 0, "zero or more"),
        ("payments.stripe_secret_key", not stripe or p.stripe_secret_key.startswith(("sk_", "rk_")),
         "a Stripe secret key (sk_test_… or sk_live_…) when stripe is enabled"),
        ("payments.stripe_publishable_key", not stripe or p.stripe_publishable_key.startswith("pk_"),
         "a Stripe publishable key (pk_test_… or pk_live_…) when stripe is enabled"),
        ("payments.stripe_webhook_secret", not stripe or p.stripe_webhook_secret.startswith("whsec_"),
         "the webhook endpoint's signing secret (whsec_…) when stripe is enabled"),
        ("payments.stripe_api_base", p.stripe_api_base.startswith(("https://", "http://")), "an http(s) URL"),
        ("payments.stripe_js_url", p.stripe_js_url.startswith(("https://", "http://")), "an http(s) URL"),
        ("payments.bank_iban", not bank or _is_iban(p.bank_iban), "a valid IBAN when bank is enabled"),
        ("payments.bank_account_holder", not bank or bool(p.bank_account_holder.strip()),
         "the account holder's name when bank is enabled"),
    ]


SMTP_SECURITY = ("none", "starttls", "tls")


def _mail_checks(m: MailSettings) -> list[tuple[str, bool, str]]:
    """Checked whether mail is on or not, so that turning it on later meets no surprise."""
    return [
        ("mail.smtp_port", 1 <= m.smtp_port <= 65535, "a TCP port between 1 and 65535"),
        ("mail.smtp_security", m.smtp_security in SMTP_SECURITY, '"none", "starttls" or "tls"'),
        ("mail.from_address", bool(re.fullmatch(r"[^@\s<>]+@[^@\s<>]+", m.from_address)),
         "an email address such as mecene@example.org"),
        ("mail.timeout_seconds", m.timeout_seconds > 0, "more than zero"),
        ("mail.retry_base_seconds", m.retry_base_seconds > 0, "more than zero"),
        ("mail.max_attempts", m.max_attempts >= 1, "at least 1"),
        ("mail.poll_seconds", m.poll_seconds > 0, "more than zero"),
        ("mail.lease_seconds", m.lease_seconds > 0, "more than zero"),
        ("mail.verify_hours", m.verify_hours >= 1, "at least 1"),
        ("mail.reset_minutes", m.reset_minutes >= 1, "at least 1"),
    ]


def _is_iban(text: str) -> bool:
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    try:
        IBAN(text)
    except SchwiftyException:
        return False
    return True
