"""Words for the file review's codes (checklist items, results, statuses), translated when
shown; the codes themselves are `casework.qa_schemas.CHECK_CODES` and `CheckResult`."""

from __future__ import annotations

from gateway.web.i18n import N_
from gateway.workflow.casework.qa_schemas import CHECK_CODES, CheckResult

__all__ = ["CHECK_HINTS", "CHECK_LABELS", "RESULT_LABELS", "RESULT_TAGS", "STATUS_LABELS"]

#: Short names (a chart's label shows about 24 characters).
CHECK_LABELS: dict[str, str] = {
    "intake": N_("Intake and identity"),
    "consent": N_("Consent in force"),
    "assessment": N_("Assessment recorded"),
    "plan": N_("Service plan complete"),
    "notes-against-plan": N_("Notes linked to the plan"),
    "reviews-on-time": N_("Plan reviews on time"),
    "closure-continuation": N_("Continuation at closure"),
}
#: What each check looks for (docs/casework.md, "Automatic file review").
CHECK_HINTS: dict[str, str] = {
    "intake": N_("The client is known to your organisation and their identity is on record."),
    "consent": N_("The client has a consent in force today."),
    "assessment": N_("At least one assessment is recorded."),
    "plan": N_(
        "The case has a service plan, and every barrier of the latest assessment has a strategy."
    ),
    "notes-against-plan": N_("At least one case note is linked to a goal or task of the plan."),
    "reviews-on-time": N_("The date of the plan's next review has not passed."),
    "closure-continuation": N_("A closed case has a plan for afterwards in its closure record."),
}
assert set(CHECK_LABELS) == set(CHECK_CODES) == set(CHECK_HINTS)

RESULT_LABELS: dict[str, str] = {
    CheckResult.PASS.value: N_("Passes"),
    CheckResult.FAIL.value: N_("Fails"),
    CheckResult.NOT_APPLICABLE.value: N_("Not applicable"),
}
#: The stylesheet's tag for each result (the word says it; the colour only repeats it).
RESULT_TAGS: dict[str, str] = {
    CheckResult.PASS.value: "ok",
    CheckResult.FAIL.value: "danger",
    CheckResult.NOT_APPLICABLE.value: "completed",
}
assert set(RESULT_LABELS) == set(RESULT_TAGS) == {r.value for r in CheckResult}

STATUS_LABELS: dict[str, str] = {
    "open": N_("To review"),
    "done": N_("Done"),
}
