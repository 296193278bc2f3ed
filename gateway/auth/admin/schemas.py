"""API shapes for organisation and staff administration."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field

from gateway.auth import credentials
from gateway.auth.models import OrgStatus, OrgType
from kernel.caller import Role

__all__ = [
    "ApplicationIn",
    "OrganisationOut",
    "StatusChangeIn",
    "TemporaryPasswordOut",
    "UserCreatedOut",
    "UserIn",
    "UserOut",
    "UserUpdate",
]

Email = str  # validated loosely: agencies use many domains; uniqueness is what matters


class AdminIn(BaseModel):
    email: Email = Field(pattern=r"^[^@\s]+@[^@\s]+$", max_length=254)
    display_name: str = Field(min_length=1, max_length=200)
    password: str = Field(
        max_length=1024,
        json_schema_extra={"minLength": credentials.MIN_PASSWORD_LENGTH},  # checked by the service
    )


class ApplicationIn(BaseModel):
    name: str = Field(min_length=2, max_length=200)
    org_type: OrgType
    contact_email: Email = Field(pattern=r"^[^@\s]+@[^@\s]+$", max_length=254)
    contact_phone: str | None = Field(default=None, max_length=40)
    admin: AdminIn


class OrganisationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    org_type: OrgType
    status: OrgStatus
    contact_email: str
    contact_phone: str | None
    status_reason: str | None
    created_at: dt.datetime


class StatusChangeIn(BaseModel):
    reason: str | None = Field(default=None, max_length=500)


class UserIn(BaseModel):
    email: Email = Field(pattern=r"^[^@\s]+@[^@\s]+$", max_length=254)
    display_name: str = Field(min_length=1, max_length=200)
    roles: list[Role] = Field(min_length=1)
    team: str | None = Field(default=None, max_length=100)


class UserUpdate(BaseModel):
    roles: list[Role] | None = None
    team: str | None = Field(default=None, max_length=100)
    mfa_required: bool | None = None
    active: bool | None = None


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    organisation_id: uuid.UUID
    email: str
    display_name: str
    roles: list[Role]
    team: str | None
    active: bool
    mfa_required: bool
    totp_enabled: bool
    must_change_password: bool


class UserCreatedOut(BaseModel):
    user: UserOut
    temporary_password: str = Field(description="Shown once; the user must change it")


class TemporaryPasswordOut(BaseModel):
    temporary_password: str
