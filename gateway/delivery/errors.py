"""Delivery's errors as the HTTP surfaces show them (problem JSON, or OperationOutcome
under /fhir)."""

from __future__ import annotations

from kernel.errors import NotFound, RefhubError

__all__ = ["DeliveryError", "InvalidSubscription", "MessageNotFound", "NotPermitted"]


class DeliveryError(RefhubError):
    status = 400
    code = "delivery-error"
    title = "Delivery error"


class InvalidSubscription(DeliveryError):
    status = 422
    code = "invalid-subscription"
    title = "Subscription not accepted"


class NotPermitted(DeliveryError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class MessageNotFound(NotFound):
    """No such message addressed to (or sent by) the caller's organisation."""
