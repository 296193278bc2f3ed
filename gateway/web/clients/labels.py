"""Words for the codes the clients pages show (translated when shown, through `_()`).

The wording follows the client's consent page (`consent.i18n`), so a client hears the
same words from their case worker as they read on their phone; these copies are marked
here so the staff catalogs collect them.
"""

from __future__ import annotations

from adapters import DataCategory
from consent.models import GrantMethod, GrantorRelationship, Purpose
from consent.schemas import RevokeRequest
from gateway.web.i18n import N_
from kernel.organisations import OrgType

__all__ = [
    "CATEGORY_HINTS",
    "CATEGORY_LABELS",
    "CATEGORY_PHRASES",
    "CLOSURE_LABELS",
    "GRANTOR_LABELS",
    "LANGUAGE_LABELS",
    "METHOD_LABELS",
    "ORG_TYPE_LABELS",
    "PURPOSE_HINTS",
    "PURPOSE_LABELS",
    "PURPOSE_PHRASES",
    "REVOKE_LABELS",
]

#: The data categories, as a consent names them.
CATEGORY_LABELS: dict[str, str] = {
    DataCategory.IDENTITY.value: N_("Identity"),
    DataCategory.CONTACT.value: N_("Contact details"),
    DataCategory.FAMILY.value: N_("Family"),
    DataCategory.NEEDS.value: N_("Needs and assessment"),
    DataCategory.HEALTH.value: N_("Health"),
    DataCategory.PROTECTION.value: N_("Protection and safety"),
    DataCategory.LEGAL_STATUS.value: N_("Legal status"),
    DataCategory.CASE_NOTES.value: N_("Case notes"),
    DataCategory.DOCUMENTS.value: N_("Documents"),
}
#: What each category holds (hint under the checkbox).
CATEGORY_HINTS: dict[str, str] = {
    DataCategory.IDENTITY.value: N_("Name and date of birth"),
    DataCategory.CONTACT.value: N_("Phone, email, preferred language"),
    DataCategory.FAMILY.value: N_("Family members and who they are"),
    DataCategory.NEEDS.value: N_("What they need help with, goals, strengths and barriers"),
    DataCategory.HEALTH.value: N_("Health conditions and care"),
    DataCategory.PROTECTION.value: N_("Safety concerns, do-not-contact and safe-contact notes"),
    DataCategory.LEGAL_STATUS.value: N_("Immigration and legal status"),
    DataCategory.CASE_NOTES.value: N_("Notes written by case workers"),
    DataCategory.DOCUMENTS.value: N_("Attached documents"),
}
#: The categories inside a sentence ("may send Harbour your identity and needs").
CATEGORY_PHRASES: dict[str, str] = {
    DataCategory.IDENTITY.value: N_("identity"),
    DataCategory.CONTACT.value: N_("contact details"),
    DataCategory.FAMILY.value: N_("family details"),
    DataCategory.NEEDS.value: N_("needs"),
    DataCategory.HEALTH.value: N_("health information"),
    DataCategory.PROTECTION.value: N_("safety concerns"),
    DataCategory.LEGAL_STATUS.value: N_("legal status"),
    DataCategory.CASE_NOTES.value: N_("case notes"),
    DataCategory.DOCUMENTS.value: N_("documents"),
}
PURPOSE_LABELS: dict[str, str] = {
    Purpose.REFERRAL.value: N_("Referral"),
    Purpose.HANDOVER.value: N_("Handover"),
    Purpose.SERVICE_COORDINATION.value: N_("Service coordination"),
    Purpose.FOLLOW_UP.value: N_("Follow-up"),
}
PURPOSE_HINTS: dict[str, str] = {
    Purpose.REFERRAL.value: N_("Asking another service to help the client"),
    Purpose.HANDOVER.value: N_("Passing the client's case to another organisation"),
    Purpose.SERVICE_COORDINATION.value: N_("Services working together on the client's plan"),
    Purpose.FOLLOW_UP.value: N_("Checking how the client is doing afterwards"),
}
#: The purposes inside a sentence ("for referrals").
PURPOSE_PHRASES: dict[str, str] = {
    Purpose.REFERRAL.value: N_("referrals"),
    Purpose.HANDOVER.value: N_("handing over the case"),
    Purpose.SERVICE_COORDINATION.value: N_("coordinating services"),
    Purpose.FOLLOW_UP.value: N_("follow-up"),
}
#: How consent was given, as staff record it in person.
METHOD_LABELS: dict[str, str] = {
    GrantMethod.WRITTEN.value: N_("In writing (signed form)"),
    GrantMethod.VERBAL.value: N_("Verbally, with a witness"),
    GrantMethod.ELECTRONIC.value: N_("Electronically"),
}
#: Who gave consent.
GRANTOR_LABELS: dict[str, str] = {
    GrantorRelationship.SELF.value: N_("The client"),
    GrantorRelationship.PARENT.value: N_("A parent, for the client"),
    GrantorRelationship.GUARDIAN.value: N_("A guardian, for the client"),
    GrantorRelationship.LEGAL_REPRESENTATIVE.value: N_("A legal representative, for the client"),
}
ORG_TYPE_LABELS: dict[str, str] = {
    OrgType.RESETTLEMENT_NGO.value: N_("Resettlement organisation"),
    OrgType.MUNICIPALITY.value: N_("Municipality"),
    OrgType.COMMUNITY_SPONSOR.value: N_("Community sponsor"),
    OrgType.TORTURE_SURVIVOR_SERVICE.value: N_("Service for survivors of torture"),
    OrgType.CHILD_PROTECTION.value: N_("Child protection service"),
    OrgType.GBV_SERVICE.value: N_("Service for survivors of gender-based violence"),
    OrgType.DISABILITY_SERVICE.value: N_("Disability service"),
    OrgType.LGBTIQ_SERVICE.value: N_("LGBTIQ+ service"),
    OrgType.OLDER_PEOPLE_SERVICE.value: N_("Service for older people"),
    OrgType.HEALTH.value: N_("Health service"),
    OrgType.HOUSING.value: N_("Housing service"),
    OrgType.GOVERNMENT.value: N_("Government office"),
    OrgType.HUB_OPERATOR.value: N_("Hub operator"),
    OrgType.OTHER.value: N_("Other organisation"),
}
#: The languages a client's identity and consent may be kept in (`consent.schemas.Language`).
LANGUAGE_LABELS: dict[str, str] = {
    "en": N_("English"),
    "fr": N_("French"),
    "ar": N_("Arabic"),
    "uk": N_("Ukrainian"),
}
REVOKE_LABELS: dict[str, str] = {
    "client-instruction": N_("The client asked to withdraw it"),
    "client-withdrew": N_("The client withdrew it themselves (for example in writing)"),
    "recorded-in-error": N_("It was recorded in error"),
}
CLOSURE_LABELS: dict[str, str] = {
    "goals-met": N_("Goals met"),
    "client-disengaged": N_("Client disengaged"),
    "client-moved": N_("Client moved"),
    "transferred": N_("Transferred to another organisation"),
    "client-declined": N_("Client declined further help"),
    "deceased": N_("Client died"),
    "other": N_("Other"),
}

assert set(CATEGORY_LABELS) == set(CATEGORY_HINTS) == set(CATEGORY_PHRASES)
assert set(CATEGORY_LABELS) == {c.value for c in DataCategory}
assert set(PURPOSE_LABELS) == set(PURPOSE_HINTS) == set(PURPOSE_PHRASES)
assert set(PURPOSE_LABELS) == {p.value for p in Purpose}
assert set(METHOD_LABELS) == {m.value for m in GrantMethod}
assert set(GRANTOR_LABELS) == {g.value for g in GrantorRelationship}
assert set(ORG_TYPE_LABELS) == {t.value for t in OrgType}
assert set(REVOKE_LABELS) == set(RevokeRequest.model_fields["reason"].annotation.__args__)  # type: ignore[union-attr]
