"""Printable HTML summaries of referral packets, in the receiver's language."""
