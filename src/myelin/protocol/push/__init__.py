"""Push rules: the predefined rules and (later) their evaluation."""
