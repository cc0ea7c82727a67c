"""Copy for every segment × channel from one brief: engines (template, llm) behind one protocol, and the guard
that checks every variant against the channel's limits, the banned phrases and the brief's own numbers."""
