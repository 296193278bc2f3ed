"""Kinds of organisations in a referral network: the vocabulary every package shares
(consent grants may name an organisation type as recipient; the directory lists them)."""

from __future__ import annotations

import enum

__all__ = ["OrgType"]


class OrgType(enum.StrEnum):
    RESETTLEMENT_NGO = "resettlement_ngo"
    MUNICIPALITY = "municipality"
    COMMUNITY_SPONSOR = "community_sponsor"
    TORTURE_SURVIVOR_SERVICE = "torture_survivor_service"
    CHILD_PROTECTION = "child_protection"
    GBV_SERVICE = "gbv_service"
    DISABILITY_SERVICE = "disability_service"
    LGBTIQ_SERVICE = "lgbtiq_service"
    OLDER_PEOPLE_SERVICE = "older_people_service"
    HEALTH = "health"
    HOUSING = "housing"
    GOVERNMENT = "government"
    HUB_OPERATOR = "hub_operator"
    OTHER = "other"
