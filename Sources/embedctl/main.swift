print("embedctl: not yet implemented")
