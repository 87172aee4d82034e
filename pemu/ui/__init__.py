"""User interfaces: console surfaces, the VNC server, screendump."""
