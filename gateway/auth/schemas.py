"""API shapes for staff sign-in."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

__all__ = [
    "CallerOut",
    "CodeIn",
    "EnrolmentOut",
    "LoginIn",
    "LoginOut",
    "PasswordChangeIn",
    "StepOut",
]


class LoginIn(BaseModel):
    email: str = Field(max_length=254)
    password: str = Field(max_length=1024)


class LoginOut(BaseModel):
    next_step: str = Field(description="done, totp, enrol-totp or change-password")
    csrf_token: str = Field(description="Send as X-CSRF-Token with every state change")


class CodeIn(BaseModel):
    code: str = Field(pattern=r"^[0-9]{6}$")


class StepOut(BaseModel):
    next_step: str


class EnrolmentOut(BaseModel):
    secret: str
    otpauth_uri: str


class PasswordChangeIn(BaseModel):
    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)


class CallerOut(BaseModel):
    kind: str
    id: uuid.UUID
    organisation_id: uuid.UUID
    roles: list[str]
    scopes: list[str]
    team: str | None
