"""The software CPU: translation-block cache and the execution loop."""
