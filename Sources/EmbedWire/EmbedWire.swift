// EmbedWire — placeholder until its issue lands.
