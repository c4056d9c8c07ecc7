extension HNSW {
    /// One `Measure` as a type, so that each walk is compiled once per measure: the walk's
    /// inner loop then calls one inlined kernel, with no switch on the measure per neighbour.
    protocol Scorer {
        /// The distance of node `id` under this measure.
        func distance(_ s: NodeStore, _ q: UnsafePointer<Float>, _ id: UInt32) -> Float
        /// Starts loading all that `distance` reads of `id` (a greedy step scores every
        /// neighbour, so it asks for all of it).
        func prefetchAll(_ s: NodeStore, _ id: UInt32)
        /// Starts loading the start of it (a beam step scores only the neighbours not yet
        /// visited, and the first lines are what the kernel waits on first).
        func prefetchStart(_ s: NodeStore, _ id: UInt32)
    }

    struct ExactScorer: Scorer {
        @inline(__always) func distance(_ s: NodeStore, _ q: UnsafePointer<Float>, _ id: UInt32) -> Float { s.distance(q, id) }
        @inline(__always) func prefetchAll(_ s: NodeStore, _ id: UInt32) { s.prefetchWholeVector(id) }
        @inline(__always) func prefetchStart(_ s: NodeStore, _ id: UInt32) { s.prefetchVector(id) }
    }

    struct ConstructionScorer: Scorer {
        let lift: Float
        @inline(__always) func distance(_ s: NodeStore, _ q: UnsafePointer<Float>, _ id: UInt32) -> Float {
            s.graphDistance(q, lift: lift, id)
        }
        @inline(__always) func prefetchAll(_ s: NodeStore, _ id: UInt32) { s.prefetchWholeVector(id) }
        @inline(__always) func prefetchStart(_ s: NodeStore, _ id: UInt32) { s.prefetchVector(id) }
    }

    struct QuantizedScorer: Scorer {
        let query: QuantizedQuery
        @inline(__always) func distance(_ s: NodeStore, _ q: UnsafePointer<Float>, _ id: UInt32) -> Float {
            s.approximateDistance(query, id)
        }
        @inline(__always) func prefetchAll(_ s: NodeStore, _ id: UInt32) { s.prefetchCodes(id) }
        @inline(__always) func prefetchStart(_ s: NodeStore, _ id: UInt32) { s.prefetchCodes(id) }
    }
}
