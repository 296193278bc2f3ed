"""Referrals on both sides: inbox and outbox lists, and a referral's page (summary,
timeline, thread, documents, actions)."""
