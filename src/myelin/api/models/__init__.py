"""Strict request models (msgspec Structs: no type coercion, unknown keys ignored)."""
