"""Every table of the hub, imported in one place so migrations and tests see them all."""

from __future__ import annotations

from consent import models as consent_models
from directory import models as directory_models
from gateway.audit import models as audit_models
from gateway.auth import models as auth_models
from gateway.auth.clients import models as client_models
from gateway.delivery import models as delivery_models
from gateway.documents import models as document_models
from gateway.workflow import models as workflow_models
from gateway.workflow.casework import models as casework_models
from kernel import audit as kernel_audit
from kernel import outbox as kernel_outbox
from kernel.db import Base

__all__ = ["metadata"]

# The imports above register the tables on Base.metadata; naming them keeps them used.
_TABLE_MODULES = (
    kernel_audit,
    kernel_outbox,
    audit_models,
    auth_models,
    client_models,
    directory_models,
    consent_models,
    delivery_models,
    document_models,
    workflow_models,
    casework_models,
)
metadata = Base.metadata
