"""Code systems and value tables used in packets: refhub's own and the standard ones.

refhub's code systems live under one base, :data:`CS` (``https://refhub.org/fhir/CodeSystem/``);
they are used only where no standard system fits (case-management domains, contact
preferences, separation status...). SNOMED CT, LOINC, HL7 terminology and the Gravity SDOH
temporary codes are used where they do.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from adapters.categories import DataCategory

__all__ = [
    "ASSESSMENT",
    "CONTACT_METHODS",
    "CS",
    "DELIVERY_CHANNELS",
    "DOMAINS",
    "EXT",
    "FAMILY_ROLE_CAREGIVER",
    "GENDERS",
    "GOAL_STATUSES",
    "IDENTIFIER_TYPES",
    "KINDS",
    "PRIORITIES",
    "RELATIONSHIPS",
    "RISK_LEVELS",
    "SEPARATION",
    "SEVERITIES",
    "Code",
    "CodeTable",
    "Domain",
    "coding",
]

CS = "https://refhub.org/fhir/CodeSystem/"
EXT = "https://refhub.org/fhir/StructureDefinition/"

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
SDOH = "http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes"
ROLE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
V2_ID = "http://terminology.hl7.org/CodeSystem/v2-0203"
RISK = "http://terminology.hl7.org/CodeSystem/risk-probability"
BCP47 = "urn:ietf:bcp:47"
TASK_CODE = "http://hl7.org/fhir/CodeSystem/task-code"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
PARTICIPANT_TYPE = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
DATA_OPERATION = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
INTERPRETER_EXT = "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired"
CONTACT_PREFS_EXT = EXT + "contact-preferences"
SOURCE_FORMAT_SID = "https://refhub.org/fhir/sid/source-format"
CASE_ID_SID = "https://refhub.org/fhir/sid/agency-case-id"
HOUSEHOLD_SIZE_LOINC = "63512-8"
TASK_INPUT_CHANNEL = {"system": CS + "task-input", "code": "delivery-channel"}
DO_NOT_CONTACT = {"system": SDOH, "code": "contacting-subject-prohibited"}


def coding(system: str, code: str, display: str = "") -> dict[str, str]:
    """A FHIR Coding as JSON; ``display`` is left out when empty."""
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


@dataclass(frozen=True)
class Code:
    """One entry of a value table: the keyword used in summary/CSV and its FHIR coding."""

    key: str
    system: str
    code: str
    display: str

    def coding(self) -> dict[str, str]:
        """This code as a FHIR Coding."""
        return coding(self.system, self.code, self.display)


class CodeTable:
    """Keywords (as agencies write them) ↔ FHIR codings, both directions, no duplicates."""

    def __init__(self, name: str, codes: Iterable[Code]) -> None:
        self.name = name
        self.codes = tuple(codes)
        self._by_key = {c.key: c for c in self.codes}
        self._by_coding = {(c.system, c.code): c for c in self.codes}

    @property
    def keys(self) -> tuple[str, ...]:
        """Every keyword, in table order."""
        return tuple(c.key for c in self.codes)

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def __getitem__(self, key: str) -> Code:
        return self._by_key[key]

    def coding(self, key: str) -> dict[str, str]:
        """The FHIR Coding for a keyword (KeyError if unknown: validate keys first)."""
        return self._by_key[key].coding()

    def key_of(self, codings: Any) -> str | None:
        """The keyword of the first coding in ``codings`` this table knows, else None."""
        if not isinstance(codings, list):
            return None
        for c in codings:
            if isinstance(c, Mapping):
                hit = self._by_coding.get((str(c.get("system")), str(c.get("code"))))
                if hit is not None:
                    return hit.key
        return None

    def expected(self) -> str:
        """The accepted keywords, for error messages."""
        return "one of " + ", ".join(self.keys)


def _table(name: str, system: str, rows: Iterable[tuple[str, str]]) -> CodeTable:
    return CodeTable(name, (Code(k, system, k, d) for k, d in rows))


@dataclass(frozen=True)
class Domain:
    """A case-management domain: what a need, risk, goal or service is about."""

    key: str
    display: str
    category: DataCategory
    sdoh: str | None = None

    def codings(self) -> list[dict[str, str]]:
        """refhub coding first, then the Gravity SDOH category where one fits."""
        out = [coding(CS + "case-domain", self.key, self.display)]
        if self.sdoh:
            out.append(coding(SDOH, self.sdoh))
        return out


_N, _H, _P = DataCategory.NEEDS, DataCategory.HEALTH, DataCategory.PROTECTION
_F, _L = DataCategory.FAMILY, DataCategory.LEGAL_STATUS
DOMAINS: dict[str, Domain] = {
    d.key: d
    for d in (
        Domain("shelter", "Shelter and housing", _N, "housing-instability"),
        Domain("food", "Food", _N, "food-insecurity"),
        Domain("cash", "Cash and financial assistance", _N, "financial-insecurity"),
        Domain("nfi", "Non-food items", _N, "material-hardship"),
        Domain("wash", "Water, sanitation and hygiene", _N),
        Domain("education", "Education", _N, "educational-attainment"),
        Domain("livelihoods", "Livelihoods and employment", _N, "employment-status"),
        Domain("transport", "Transport", _N, "transportation-insecurity"),
        Domain("language", "Language and interpretation", _N),
        Domain("social-connection", "Social connection", _N, "social-connection"),
        Domain("health", "Health", _H),
        Domain("mhpss", "Mental health and psychosocial support", _H),
        Domain("disability", "Disability", _H),
        Domain("nutrition", "Nutrition", _H),
        Domain("child-protection", "Child protection", _P),
        Domain("gbv", "Gender-based violence", _P),
        Domain("trafficking", "Trafficking and exploitation", _P),
        Domain("safety", "Physical safety", _P),
        Domain("family-tracing", "Family tracing and reunification", _F),
        Domain("legal", "Legal assistance", _L),
        Domain("documentation", "Civil documentation", _L),
        Domain("asylum", "Asylum and refugee status", _L),
        Domain("other", "Other", _N),
    )
}
SDOH_TO_DOMAIN = {d.sdoh: d.key for d in DOMAINS.values() if d.sdoh}

PRIORITIES = CodeTable(
    "priority",
    (
        Code("24h", "http://hl7.org/fhir/request-priority", "asap", "Within 24 hours"),
        Code("72h", "http://hl7.org/fhir/request-priority", "urgent", "Within 72 hours"),
        Code("2weeks", "http://hl7.org/fhir/request-priority", "routine", "Within 2 weeks"),
    ),
)
KINDS = CodeTable(
    "kind",
    (
        Code("referral", SNOMED, "3457005", "Patient referral"),
        Code("handover", SNOMED, "308292007", "Transfer of care"),
    ),
)
GENDERS = ("male", "female", "other", "unknown")
GOAL_STATUSES = ("proposed", "planned", "accepted", "active", "on-hold", "completed", "cancelled")
SEVERITIES = CodeTable(
    "severity",
    (
        Code("mild", SNOMED, "255604002", "Mild"),
        Code("moderate", SNOMED, "6736007", "Moderate"),
        Code("severe", SNOMED, "24484000", "Severe"),
    ),
)
RISK_LEVELS = _table(
    "risk level", RISK, (("low", "Low"), ("moderate", "Moderate"), ("high", "High"))
)
RELATIONSHIPS = CodeTable(
    "relationship",
    (
        Code(k, ROLE, c, d)
        for k, c, d in (
            ("mother", "MTH", "mother"),
            ("father", "FTH", "father"),
            ("parent", "PRN", "parent"),
            ("spouse", "SPS", "spouse"),
            ("husband", "HUSB", "husband"),
            ("wife", "WIFE", "wife"),
            ("child", "CHILD", "child"),
            ("son", "SON", "natural son"),
            ("daughter", "DAU", "natural daughter"),
            ("sibling", "SIB", "sibling"),
            ("brother", "BRO", "brother"),
            ("sister", "SIS", "sister"),
            ("grandparent", "GRPRN", "grandparent"),
            ("grandchild", "GRNDCHILD", "grandchild"),
            ("aunt", "AUNT", "aunt"),
            ("uncle", "UNCLE", "uncle"),
            ("cousin", "COUSN", "cousin"),
            ("niece-nephew", "NIENEPH", "niece/nephew"),
            ("relative", "FAMMEMB", "family member"),
            ("guardian", "GUARD", "guardian"),
            ("friend", "FRND", "unrelated friend"),
        )
    ),
)
FAMILY_ROLE_CAREGIVER = coding(CS + "family-role", "caregiver", "Caregiver of the client")
IDENTIFIER_TYPES = CodeTable(
    "identifier type",
    (
        Code("unhcr", CS + "identifier-type", "unhcr", "UNHCR individual number"),
        Code("national-id", V2_ID, "NI", "National unique individual identifier"),
        Code("passport", V2_ID, "PPN", "Passport number"),
        Code("agency", CS + "identifier-type", "agency", "Agency client number"),
        Code("other", CS + "identifier-type", "other", "Other identifier"),
    ),
)
CONTACT_METHODS = _table(
    "contact method",
    CS + "contact-method",
    (
        ("phone", "Phone call"),
        ("sms", "Text message"),
        ("messaging-app", "Messaging app"),
        ("email", "Email"),
        ("in-person", "In person"),
        ("via-referrer", "Through the referring case worker"),
    ),
)
DELIVERY_CHANNELS = _table(
    "delivery channel",
    CS + "delivery-channel",
    (
        ("hub", "refhub"),
        ("in-person", "In person"),
        ("phone", "Phone"),
        ("email", "Email"),
        ("paper", "Paper form"),
        ("other", "Other"),
    ),
)
SEPARATION = _table(
    "separation status",
    CS + "separation-status",
    (
        ("accompanied", "Accompanied by a caregiver"),
        ("separated", "Separated from usual caregivers"),
        ("unaccompanied", "Unaccompanied"),
    ),
)
ASSESSMENT = _table(
    "assessment item",
    CS + "assessment",
    (
        ("strength", "Strength"),
        ("barrier", "Barrier"),
        ("risk", "Risk"),
        ("minor-care", "Care arrangement of a minor"),
        ("caregiver-informed", "Caregiver informed of the referral"),
        ("caregiver-not-informed-reason", "Why the caregiver was not informed"),
    ),
)
