"""HTTP plumbing shared by every router: request bodies read off the event loop's way."""
