// EmbedPluginCheck — placeholder until its issue lands.
