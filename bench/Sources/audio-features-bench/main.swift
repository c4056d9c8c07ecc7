AudioFeaturesBench.main()
