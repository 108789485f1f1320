"""The Event queue's schema (events.db), apart from the registry's: a queued event must not look
like a change of any function to the registry's caches."""
