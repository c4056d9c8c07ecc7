// TextPlugin placeholder
