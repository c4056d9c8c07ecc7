CLIPTokenizerBench.main()
