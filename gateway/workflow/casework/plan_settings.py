"""An organisation's case-planning rules: how often plans are reviewed (and assessments
repeated), and whether every goal must name its life domain and a target date.

Any member of the organisation reads them; its org admins change them (audited). They apply
to plans and goals written from then on; existing ones keep their dates."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from gateway.auth.errors import Forbidden
from gateway.workflow.casework import planning
from gateway.workflow.casework.models import OrgPlanSettings
from kernel import audit
from kernel.caller import Caller, CallerKind, Role
from kernel.db import utcnow

__all__ = ["PlanSettingsIn", "PlanSettingsOut", "read_settings", "update_settings"]

DEFAULT_REVIEW_DAYS = 90


class PlanSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    review_every_days: int = Field(
        DEFAULT_REVIEW_DAYS,
        ge=7,
        le=365,
        description="Days between plan reviews, and from an assessment to its reassessment.",
    )
    goal_domain_required: bool = Field(True, description="Every goal names its life domain.")
    goal_target_required: bool = Field(True, description="Every goal has a target date.")


class PlanSettingsOut(PlanSettingsIn):
    organisation_id: uuid.UUID


def read_settings(session: Session, caller: Caller) -> PlanSettingsOut:
    """The caller's organisation's rules (the defaults until an org admin sets them)."""
    assert caller.organisation_id is not None  # every authenticated caller has one
    found = planning.settings_of(session, caller.organisation_id)
    return PlanSettingsOut(
        organisation_id=caller.organisation_id,
        review_every_days=found.review_every_days,
        goal_domain_required=found.goal_domain_required,
        goal_target_required=found.goal_target_required,
    )


def update_settings(session: Session, caller: Caller, body: PlanSettingsIn) -> PlanSettingsOut:
    """Set the organisation's rules (its org admins only; audited).

    Raises:
        Forbidden: not an org admin of the organisation (a person).
    """
    if caller.kind is not CallerKind.USER or not caller.has_role(Role.ORG_ADMIN):
        raise Forbidden("Only the organisation's administrators set its planning rules.")
    assert caller.organisation_id is not None
    row = session.get(OrgPlanSettings, caller.organisation_id)
    if row is None:
        row = OrgPlanSettings(organisation_id=caller.organisation_id)
        session.add(row)
    row.review_every_days = body.review_every_days
    row.goal_domain_required = body.goal_domain_required
    row.goal_target_required = body.goal_target_required
    row.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor=caller.actor,
        action="plan-settings.update",
        organisation=str(caller.organisation_id),
        subject=f"Organization/{caller.organisation_id}",
        detail=body.model_dump(),
    )
    return read_settings(session, caller)
