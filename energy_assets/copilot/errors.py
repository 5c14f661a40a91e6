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
