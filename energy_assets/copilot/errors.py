"""The copilot's bad-input errors: each names the field (or tariff key) and why, so the API can answer 422."""

from __future__ import annotations


class CopilotInputError(ValueError):
    """An input cannot be used as given. `field` names it (a request field, a frame column or a tariff key)."""

    def __init__(self, field: str, reason: str):
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")

    def to_dict(self) -> dict:
        return {"field": self.field, "reason": self.reason}


class TariffError(CopilotInputError):
    """A tariff file is missing, unreadable or malformed; `field` is the key path in the file."""


class InfeasibleError(CopilotInputError):
    """The request is well formed but has no solution (the energy cannot fit, the cap cannot hold)."""


def number(
    field: str, value, *, minimum: float = 0.0, strict: bool = True, maximum: float | None = None, unit: str = ""
) -> float:
    """`value` as a float, or CopilotInputError naming `field` when it is not a finite number in range."""
    import math

    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise CopilotInputError(field, f"expected a number{f' of {unit}' if unit else ''}, got {value!r}")
    low_ok = value > minimum if strict else value >= minimum
    if not low_ok or (maximum is not None and value > maximum):
        bound = f"> {minimum:g}" if strict else f">= {minimum:g}"
        upper = f" and <= {maximum:g}" if maximum is not None else ""
        raise CopilotInputError(field, f"{value!r} out of range (expected {bound}{upper}{f' {unit}' if unit else ''})")
    return float(value)
