"""The access context: who may use the API (keys and their scopes)."""
