// EmbedSys — placeholder until its issue lands.
