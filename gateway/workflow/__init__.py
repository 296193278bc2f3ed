"""The referral and handover workflow: submission, the Task state machine, the thread, the
closed loop, handovers and case closure, monitoring and the supervisor's figures."""
