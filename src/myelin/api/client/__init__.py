"""Client-Server API endpoint groups, one module per spec area."""
