"""How an email adapter says why a message did not go out (the types belong to the core's
email port, so use cases can tell "bounced" from "try later" without importing an adapter)."""

from __future__ import annotations

from tailtracker_core.ports import EmailDeliveryError, PermanentEmailError, TransientEmailError

__all__ = ["EmailDeliveryError", "PermanentEmailError", "TransientEmailError"]
