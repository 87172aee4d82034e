"""Machine skeleton shared by all boards: memory, IRQs, clocks, main loop."""
