"""The currency of model prices: an admin's setting, named with every cost the app shows.

Models' prices (per million tokens) and so every recorded cost are in this one currency.
Changing it converts nothing: it says what the numbers already stored mean.
"""

from __future__ import annotations

import pydantic
from sqlmodel import Session

from llm_chat.db import transaction
from llm_chat.errors import ValidationError
from llm_chat.services import app_settings
from llm_chat.services.access import require_admin
from llm_chat.services.app_settings import Setting
from llm_chat.services.users import UserInfo

# The currencies of ISO 4217 (list one, 2025): no fund, metal, test or withdrawn codes.
_CODES = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
    BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD
    FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY
    KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP
    MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR
    RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT
    TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER
    ZAR ZMW ZWG
"""
ISO_4217 = frozenset(_CODES.split())
DEFAULT_CURRENCY = "USD"


class PriceSettings(pydantic.BaseModel):
    """How model prices are read."""

    model_config = pydantic.ConfigDict(frozen=True)

    # The ISO 4217 code of every model's prices, and so of every cost.
    currency: str = DEFAULT_CURRENCY

    @pydantic.field_validator("currency")
    @classmethod
    def _iso_4217(cls, code: str) -> str:
        code = code.strip().upper()
        if code not in ISO_4217:
            raise ValueError("not an ISO 4217 currency code")
        return code


PRICES = Setting(key="prices", model=PriceSettings, default=PriceSettings())


def currency(session: Session) -> str:
    """The code of the prices' currency, in ``session``'s transaction."""
    return app_settings.read(session, PRICES).currency


@transaction
def price_currency(session: Session) -> str:
    """The code of the prices' currency (not a secret: users see it with their costs)."""
    return currency(session)


@transaction
def get_price_settings(session: Session, *, actor: UserInfo) -> PriceSettings:
    """The price settings, for an admin.

    Raises:
        ForbiddenError: ``actor`` is not an admin.
    """
    require_admin(session, actor)
    return app_settings.read(session, PRICES)


@transaction
def set_currency(session: Session, *, actor: UserInfo, code: str) -> PriceSettings:
    """Set the currency of the prices (audited as ``setting.update``); any case, e.g. "eur".

    Raises:
        ForbiddenError: ``actor`` is not an admin.
        ValidationError: ``admin.invalid_currency``: not an ISO 4217 currency code.
    """
    require_admin(session, actor)
    try:
        value = PriceSettings(currency=code)
    except pydantic.ValidationError as exc:
        raise ValidationError("admin.invalid_currency") from exc
    return app_settings.write(session, PRICES, value, actor=actor)
