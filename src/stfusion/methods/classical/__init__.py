"""methods/classical."""
