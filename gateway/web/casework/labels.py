"""Words for the codes the case-work pages show (translated when shown, through `_()`)."""

from __future__ import annotations

from gateway.web.i18n import N_
from gateway.workflow.casework.models import Domain, Responsible, RiskFlag, TaskStatus
from gateway.workflow.casework.schemas import Achievement, Lifecycle

__all__ = [
    "ACHIEVEMENT_LABELS",
    "DOMAIN_LABELS",
    "KIND_LABELS",
    "LIFECYCLE_LABELS",
    "RESPONSIBLE_LABELS",
    "REVIEW_BUTTONS",
    "REVIEW_SUBJECTS",
    "RISK_LABELS",
    "SERVICE_MESSAGES",
    "SEVERITY_LABELS",
    "STAGE_LABELS",
    "TASK_STATUS_LABELS",
]

DOMAIN_LABELS: dict[str, str] = {
    Domain.SAFETY.value: N_("Safety"),
    Domain.HOUSING.value: N_("Housing"),
    Domain.INCOME_EMPLOYMENT.value: N_("Income and work"),
    Domain.HEALTH.value: N_("Health"),
    Domain.EDUCATION_LANGUAGE.value: N_("Education and language"),
    Domain.LEGAL_DOCUMENTATION.value: N_("Legal status and documents"),
    Domain.FAMILY_SOCIAL.value: N_("Family and social life"),
    Domain.CHILD_DEVELOPMENT.value: N_("Children's development"),
}
assert set(DOMAIN_LABELS) == {d.value for d in Domain}

RISK_LABELS: dict[str, str] = {
    RiskFlag.DOMESTIC_VIOLENCE.value: N_("Domestic violence"),
    RiskFlag.HOMELESSNESS.value: N_("Homelessness, or about to lose housing"),
    RiskFlag.CHILD_PROTECTION.value: N_("A child protection concern"),
}
assert set(RISK_LABELS) == {f.value for f in RiskFlag}

#: What the assessment records per domain.
KIND_LABELS: dict[str, str] = {
    "strengths": N_("Strengths"),
    "needs": N_("Needs"),
    "barriers": N_("Barriers"),
}

SEVERITY_LABELS: dict[str, str] = {
    "high": N_("High"),
    "medium": N_("Medium"),
    "low": N_("Low"),
}

LIFECYCLE_LABELS: dict[str, str] = {
    Lifecycle.PROPOSED.value: N_("Proposed"),
    Lifecycle.PLANNED.value: N_("Planned"),
    Lifecycle.ACCEPTED.value: N_("Agreed with the family"),
    Lifecycle.ACTIVE.value: N_("Being worked on"),
    Lifecycle.ON_HOLD.value: N_("On hold"),
    Lifecycle.COMPLETED.value: N_("Finished"),
    Lifecycle.CANCELLED.value: N_("Dropped"),
    Lifecycle.ENTERED_IN_ERROR.value: N_("Entered in error"),
    Lifecycle.REJECTED.value: N_("Not agreed"),
}
assert set(LIFECYCLE_LABELS) == {v.value for v in Lifecycle}

ACHIEVEMENT_LABELS: dict[str, str] = {
    Achievement.IN_PROGRESS.value: N_("In progress"),
    Achievement.IMPROVING.value: N_("Improving"),
    Achievement.WORSENING.value: N_("Getting worse"),
    Achievement.NO_CHANGE.value: N_("No change"),
    Achievement.ACHIEVED.value: N_("Achieved"),
    Achievement.SUSTAINING.value: N_("Achieved and holding"),
    Achievement.NOT_ACHIEVED.value: N_("Not achieved"),
    Achievement.NO_PROGRESS.value: N_("No progress"),
    Achievement.NOT_ATTAINABLE.value: N_("Not attainable"),
}
assert set(ACHIEVEMENT_LABELS) == {v.value for v in Achievement}

TASK_STATUS_LABELS: dict[str, str] = {
    TaskStatus.REQUESTED.value: N_("Not started"),
    TaskStatus.ACCEPTED.value: N_("Accepted"),
    TaskStatus.IN_PROGRESS.value: N_("In progress"),
    TaskStatus.ON_HOLD.value: N_("On hold"),
    TaskStatus.COMPLETED.value: N_("Done"),
    TaskStatus.CANCELLED.value: N_("Cancelled"),
    TaskStatus.REJECTED.value: N_("Declined"),
    TaskStatus.FAILED.value: N_("Could not be done"),
}
assert set(TASK_STATUS_LABELS) == {v.value for v in TaskStatus}

RESPONSIBLE_LABELS: dict[str, str] = {
    Responsible.ORGANISATION.value: N_("Our organisation"),
    Responsible.PARTNER.value: N_("A partner organisation"),
    Responsible.FAMILY.value: N_("The client or family"),
}

#: A case's stage (`Case.stage`): a case opened by a referral starts at "linking".
STAGE_LABELS: dict[str, str] = {
    "engagement": N_("Engagement (getting to know the family)"),
    "planning": N_("Planning (goals and the service plan)"),
    "linking": N_("Linking to services"),
    "monitoring": N_("Coordination and monitoring"),
    "closed": N_("Closed"),
}

#: The case-work services' refusals the pages show (`gateway.workflow.casework`), marked
#: so the catalogs collect them: a page shows `gettext(error.detail)`.
SERVICE_MESSAGES = (
    N_("Record at least one strength, need or barrier, or a risk flag."),
    N_("The assessment cannot be in the future."),
    N_("The reassessment date must be after the assessment."),
    N_("This id is not an item of the previous assessment: omit it for a new item."),
    N_("Two items have the same id."),
    N_("A strength has no severity."),
    N_("Your organisation asks every goal to name its life domain."),
    N_("Your organisation asks every goal to have a target date."),
    N_("Write the goal in the family's words, the worker's, or both."),
    N_("A goal addresses needs or barriers of the latest assessment."),
    N_("The target date cannot be before the plan was made."),
    N_("This is not a barrier of the latest assessment, or it is given twice."),
    N_("This is not a strength of the latest assessment, or it is given twice."),
    N_("A review cannot be dated before the plan was made."),
    N_("A review cannot be in the future."),
    N_("The next review must be after this one."),
    N_("Name the partner agency."),
    N_("Only a partner's task names an organisation."),
    N_("This organisation is not an active partner in the network."),
    N_("This is not a referral your organisation sent for this client."),
    N_("The client's consent does not let your organisation update this task now."),
    N_("The case is closed: its assessment is kept as it was."),
    N_("The case is closed: its plan is kept as it was at closure."),
    N_("The case has no plan yet: write the plan first."),
    N_("No such goal in this case's plan."),
    N_("Only case workers and supervisors do case work."),
    N_("Only case workers and supervisors open cases."),
    N_("Only case workers and supervisors see shared plans."),
)


#: What a supervisor reviews, and the case page's button asking for it.
REVIEW_SUBJECTS: dict[str, str] = {
    "assessment": N_("Assessment"),
    "plan": N_("Service plan"),
    "closure": N_("Closing the case"),
}
REVIEW_BUTTONS: dict[str, str] = {
    "assessment": N_("Ask for a review of the assessment"),
    "plan": N_("Ask for a review of the plan"),
    "closure": N_("Ask for a review before closing"),
}
