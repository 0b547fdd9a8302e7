"""Models the broadcasting tests save."""
