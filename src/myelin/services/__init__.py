"""Services: the features that are not the room DAG, one class each, explicit dependencies."""
