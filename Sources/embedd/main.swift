print("embedd: not yet implemented")
