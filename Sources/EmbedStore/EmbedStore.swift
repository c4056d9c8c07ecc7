// EmbedStore — placeholder until its issue lands.
