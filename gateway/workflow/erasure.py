"""What a client's erasure clears in the referral workflow besides the data key.

Packets, thread messages, outputs, Task versions and case notes are sealed under the
client's data key, so destroying the key (`consent.erasure.erase_client`) makes them
unreadable. The one free text the workflow keeps in clear is the receiver's own wording of
a status reason (`Referral.status_reason_text`: "not safe to contact at home", ...): it is
cleared here, in the same transaction as the key's destruction; the reason's code stays.
"""

from __future__ import annotations

import uuid

from sqlalchemy import update
from sqlalchemy.orm import Session

from gateway.workflow.models import Referral

__all__ = ["forget_client_text"]


def forget_client_text(session: Session, client_id: uuid.UUID) -> int:
    """Clear the plaintext status-reason wording of the client's referrals; how many."""
    cleared = session.execute(
        update(Referral)
        .where(Referral.client_id == client_id, Referral.status_reason_text.is_not(None))
        .values(status_reason_text=None)
    )
    return int(cleared.rowcount or 0)  # type: ignore[attr-defined]
