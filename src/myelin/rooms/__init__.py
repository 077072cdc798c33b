"""The room engine: every write to a room's event graph goes through here."""
