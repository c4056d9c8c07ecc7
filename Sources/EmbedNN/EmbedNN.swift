// EmbedNN — placeholder until its issue lands.
