// Kept trivial: top-level code is @MainActor (DESIGN §5); the work lives in WhisperBench.
WhisperBench.main()
