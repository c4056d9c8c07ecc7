// EmbedServer — placeholder until its issue lands.
