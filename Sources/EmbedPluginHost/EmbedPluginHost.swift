// EmbedPluginHost — placeholder until its issue lands.
