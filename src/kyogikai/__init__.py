"""kyogikai: event-sourced meeting and schedule tracker for a prefectural e-government council."""
