"""Pure parts of /sync: tokens and filters."""
