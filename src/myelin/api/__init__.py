"""The HTTP edge: routing, request models, the error mapping; no SQL, no event building."""
