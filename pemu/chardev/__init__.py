"""Character device backends (stdio, null, file, pipe, pty, socket, mux)."""
