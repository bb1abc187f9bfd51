"""Business operations: one module per domain; plain values in, models out, one commit each."""
