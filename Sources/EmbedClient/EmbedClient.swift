// EmbedClient — placeholder until its issue lands.
