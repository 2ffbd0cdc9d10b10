"""Kubernetes resource quantities (``500m``, ``2``, ``1Gi``, ``8E``, ``1e3``), parsed in one place.

Why: a quantity is read by the site model (is it one?), by the XCache checks (is the block RAM
below the memory limit?) and by ``diff`` (does a claim shrink?); one grammar and one suffix
table keep them agreeing, including the exa suffixes ``E``/``Ei``. The grammar and the suffix
values are those of the API server's parser, ``ParseQuantity`` in
k8s.io/apimachinery/pkg/api/resource/quantity.go (``<signedNumber><suffix>``, suffix one of
the binary SI ``Ki..Ei``, the decimal SI ``n u m "" k M G T P E``, or ``e``/``E`` plus a
signed exponent). Values are exact `Fraction` s, never floats, as there.

Site files accept a narrower form (`is_site_quantity`): an unsigned decimal with an optional
``m``, ``k..E`` or ``Ki..Ei`` suffix, which is what people write and what the chart passes on.
"""

from __future__ import annotations

import re
from fractions import Fraction

#: Power-of-two suffixes (IEC).
BINARY_SUFFIXES: dict[str, int] = {
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
}
#: Power-of-ten suffixes (SI); ``m`` is a thousandth (millicores), none is the plain number.
DECIMAL_SUFFIXES: dict[str, Fraction] = {
    "n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 10**3), "": Fraction(1),
    "k": Fraction(10**3), "M": Fraction(10**6), "G": Fraction(10**9), "T": Fraction(10**12),
    "P": Fraction(10**15), "E": Fraction(10**18),
}
#: The suffixes that make a number a size in bytes: every multiple of a thousand or of 1024.
BYTE_SUFFIXES = ("k", "M", "G", "T", "P", "E", *BINARY_SUFFIXES)
#: Suffixes a site file may use (no ``n``/``u``, no exponent).
SITE_SUFFIXES = ("m", *BYTE_SUFFIXES)

_NUMBER = r"(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
_SUFFIX = r"(?P<suffix>[KMGTPE]i|[numkMGTPE]?|[eE](?P<exponent>[+-]?[0-9]+))"
_QUANTITY = re.compile(_NUMBER + _SUFFIX)
_SITE_QUANTITY = re.compile(r"[0-9]+(?:\.[0-9]+)?(?:" + "|".join(SITE_SUFFIXES) + ")?")


class QuantityError(ValueError):
    """The text is not a Kubernetes quantity."""


def parse_quantity(value: str | int | float) -> Fraction:
    """The exact value of a Kubernetes quantity (``1Gi`` → 1073741824, ``500m`` → 1/2).

    Args:
        value: the quantity as written (a YAML number is taken as its text).

    Returns:
        The value, in the quantity's base unit (bytes, cores).

    Raises:
        QuantityError: `value` is not a quantity.
    """
    text = str(value)
    match = _QUANTITY.fullmatch(text)
    if match is None:
        raise QuantityError(f"{text!r} is not a Kubernetes quantity")
    number = Fraction(match["number"])
    suffix = match["suffix"]
    if match["exponent"] is not None:
        return number * Fraction(10) ** int(match["exponent"])
    if suffix in BINARY_SUFFIXES:
        return number * BINARY_SUFFIXES[suffix]
    return number * DECIMAL_SUFFIXES[suffix]


def is_site_quantity(value: str | int | float) -> bool:
    """True when `value` has the form site files accept (``500m``, ``2``, ``1.5Gi``, ``512M``)."""
    return _SITE_QUANTITY.fullmatch(str(value)) is not None


def has_byte_suffix(value: str | int | float) -> bool:
    """True when `value` ends in a byte-size suffix (``k``..``E``, ``Ki``..``Ei``)."""
    return str(value).endswith(BYTE_SUFFIXES)
