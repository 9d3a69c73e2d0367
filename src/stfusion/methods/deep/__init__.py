"""methods/deep."""
