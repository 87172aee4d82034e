"""Character devices: serial ports."""
