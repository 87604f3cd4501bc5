"""Number helpers for templates."""

from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def plural_count(value) -> int:
    """A quantity as the whole number ``{% blocktranslate count %}`` chooses a plural form by.

    gettext's plural rules take integers. A whole quantity is itself (1 → "1 officer-hour");
    a fractional one is 2, which English and Spanish both write in the plural ("1.5 officer-hours",
    "1.5 horas-agente"), as CLDR does for any number shown with decimals.
    """
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return 2
    if not number.is_finite():
        return 2
    return int(number) if number == number.to_integral_value() else 2
