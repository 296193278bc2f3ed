"""Documents (attachments): encrypted at rest under the client's data key, size and type checked."""
