"""New referral or handover: pick the client and the service, the case summary form or an
upload, review what will be shared and withheld, send; drafts."""
