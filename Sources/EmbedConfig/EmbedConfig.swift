// EmbedConfig — placeholder until its issue lands.
