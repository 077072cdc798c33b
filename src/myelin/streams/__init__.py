"""Streams: the notifier and the readers of the event streams (/events, later /sync)."""
