"""Display devices."""
