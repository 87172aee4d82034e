"""x86 boards (microvm) and the small PC-legacy devices they need."""
