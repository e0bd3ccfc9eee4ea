"""HTTP API modules. Importing one registers its endpoints on :data:`signaling.openapi.api`."""
