"""Signal receivers of the search app."""
