ImagePrepBench.main()
