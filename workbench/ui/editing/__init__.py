"""Building the network: builder cards, volumes, palette, inspector, summary table, undo."""
