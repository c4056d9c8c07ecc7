@testable import EmbedServer
@testable import EmbedSys
import EmbedWire
import Testing

/// The metrics registry and the text exposition writer, without a daemon (the end-to-end
/// check, parsed by prometheus_client, is clients/python/tests/test_metrics.py).
struct MetricsTests {
    // MARK: Exposition format

    @Test func labelValuesEscapeBackslashQuoteAndNewline() {
        #expect(MetricsWriter.escapeLabel("plain-name_1.2") == "plain-name_1.2")
        #expect(MetricsWriter.escapeLabel(#"a\b"#) == #"a\\b"#)
        #expect(MetricsWriter.escapeLabel(#"say "hi""#) == #"say \"hi\""#)
        #expect(MetricsWriter.escapeLabel("two\nlines") == #"two\nlines"#)
        #expect(MetricsWriter.escapeLabel("ü日本\t") == "ü日本\t")  // UTF-8 and tabs stay as they are
        #expect(MetricsWriter.escapeHelp("a \"quoted\" \\ and\nmore") == #"a "quoted" \\ and\nmore"#)
    }

    @Test func samplesAreWrittenWithEscapedLabels() {
        var w = MetricsWriter()
        w.family("embedd_collection_records", .gauge, help: "Live records.\nSecond line.")
        w.sample("embedd_collection_records", [("collection", "a\"b")], 5)
        w.sample("embedd_collection_records", [], 2.5)
        #expect(w.text == """
            # HELP embedd_collection_records Live records.\\nSecond line.
            # TYPE embedd_collection_records gauge
            embedd_collection_records{collection="a\\"b"} 5
            embedd_collection_records 2.5

            """)
    }

    @Test func valuesFormatAsPrometheusReadsThem() {
        #expect(MetricsWriter.format(3) == "3")
        #expect(MetricsWriter.format(-2) == "-2")
        #expect(MetricsWriter.format(0.25) == "0.25")
        #expect(MetricsWriter.format(Double(50_000) / 1e9) == "5e-05")
        #expect(MetricsWriter.format(.infinity) == "+Inf")
        #expect(MetricsWriter.format(-.infinity) == "-Inf")
        #expect(MetricsWriter.format(.nan) == "NaN")
        #expect(Double(MetricsWriter.format(1_765_000_000.57)) == 1_765_000_000.57)
    }

    @Test func metricNamesFollowTheRule() {
        #expect(MetricsWriter.isValidName("embedd_calls_total"))
        #expect(MetricsWriter.isValidName("a:b_c9"))
        #expect(!MetricsWriter.isValidName("9lives"))
        #expect(!MetricsWriter.isValidName("has-dash"))
        #expect(!MetricsWriter.isValidName(""))
    }

    // MARK: Histograms

    @Test func histogramBucketsAreInclusiveAndCumulative() {
        let h = MetricHistogram(bounds: [1, 2, 4])
        for v: UInt64 in [0, 1, 2, 3, 4, 5, 100] { h.observe(v) }
        let s = h.snapshot()
        // le=1: 0, 1; le=2: + 2; le=4: + 3, 4; +Inf: + 5, 100.
        #expect(s.cumulative == [2, 3, 5, 7])
        #expect(s.count == 7)
        #expect(s.sum == 115)
    }

    @Test func histogramExpositionHasBucketsSumAndCount() {
        let h = MetricHistogram(bounds: [250_000, 1_000_000], divisor: 1e9)
        h.observe(100_000)
        h.observe(500_000)
        h.observe(2_000_000_000)
        var w = MetricsWriter()
        w.family("embedd_call_duration_seconds", .histogram, help: "Durations.")
        w.histogram([("method", "Embed")], h)
        #expect(w.text == """
            # HELP embedd_call_duration_seconds Durations.
            # TYPE embedd_call_duration_seconds histogram
            embedd_call_duration_seconds_bucket{method="Embed",le="0.00025"} 1
            embedd_call_duration_seconds_bucket{method="Embed",le="0.001"} 2
            embedd_call_duration_seconds_bucket{method="Embed",le="+Inf"} 3
            embedd_call_duration_seconds_sum{method="Embed"} 2.0006
            embedd_call_duration_seconds_count{method="Embed"} 3

            """)
    }

    @Test func theDaemonsBucketSetsPrintAsWritten() {
        // Every finite bound prints as a short decimal (no 5.0000000000000002e-05).
        let sets: [MetricHistogram] = [.callSeconds(), .embedSeconds(), .fsyncSeconds(), .batchSize()]
        for h in sets {
            for b in h.bounds {
                let text = MetricsWriter.format(Double(b) / h.divisor)
                #expect(text.utf8.count <= 7, "bound \(b) prints as \(text)")
            }
        }
    }

    @Test func concurrentObservationsAreAllCounted() throws {
        let h = MetricHistogram(bounds: [10, 100])
        let counter = MetricCounter()
        let threads = 8, perThread = 20_000
        var started: [OSThread] = []
        for t in 0..<threads {
            started.append(try OSThread {
                for i in 0..<perThread {
                    h.observe(UInt64((i + t) % 200))
                    counter.add()
                }
            })
        }
        for t in started { t.join() }
        let s = h.snapshot()
        #expect(s.count == UInt64(threads * perThread))
        #expect(counter.value == UInt64(threads * perThread))
        // Each thread observes 0…199 a hundred times over: 11 of every 200 values are ≤ 10.
        #expect(s.cumulative[0] == UInt64(threads * perThread / 200 * 11))
        #expect(s.sum == UInt64(threads * (perThread / 200) * (199 * 200 / 2)))
    }

    // MARK: Registry

    @Test func callsAreCountedByMethodAndCode() {
        let r = MetricsRegistry()
        let embed = r.method(.embed)
        #expect(r.method(.embed) === embed)  // looked up once, shared after
        embed.record(.ok, nanoseconds: 1_000)
        embed.record(.ok, nanoseconds: 2_000)
        embed.record(.notFound, nanoseconds: 3_000)
        embed.record(.permissionDenied, nanoseconds: nil)  // refused before it started: no duration
        embed.record(StatusCode(rawValue: 99), nanoseconds: nil)  // unknown codes count as UNKNOWN
        _ = r.method(.health)
        var w = MetricsWriter()
        r.write(into: &w)
        let lines = w.text.split(separator: "\n").map(String.init)
        #expect(lines.contains(#"embedd_calls_total{method="Embed",code="OK"} 2"#))
        #expect(lines.contains(#"embedd_calls_total{method="Embed",code="NOT_FOUND"} 1"#))
        #expect(lines.contains(#"embedd_calls_total{method="Embed",code="PERMISSION_DENIED"} 1"#))
        #expect(lines.contains(#"embedd_calls_total{method="Embed",code="UNKNOWN"} 1"#))
        // A registered method's OK series exists before its first call; other codes once seen.
        #expect(lines.contains(#"embedd_calls_total{method="Health",code="OK"} 0"#))
        #expect(!lines.contains { $0.hasPrefix(#"embedd_calls_total{method="Health",code="NOT_FOUND"}"#) })
        #expect(lines.contains(#"embedd_call_duration_seconds_count{method="Embed"} 3"#))
        #expect(lines.contains(#"embedd_call_duration_seconds_sum{method="Embed"} 6e-06"#))
        // Durations of methods never called are left out (Health was registered, not called).
        #expect(!lines.contains { $0.hasPrefix(#"embedd_call_duration_seconds_count{method="Health"}"#) })
    }

    @Test func modelSeriesAreSharedByName() {
        let r = MetricsRegistry()
        let m = r.model("mini")
        #expect(r.model("mini") === m)
        m.batchSize.observe(3)
        m.shed.add()
        m.reloadsFailed.add()
        var w = MetricsWriter()
        r.write(into: &w)
        let lines = w.text.split(separator: "\n").map(String.init)
        #expect(lines.contains(#"embedd_batch_size_bucket{model="mini",le="4"} 1"#))
        #expect(lines.contains(#"embedd_batch_size_bucket{model="mini",le="2"} 0"#))
        #expect(lines.contains(#"embedd_shed_calls_total{model="mini"} 1"#))
        #expect(lines.contains(#"embedd_model_reloads_total{model="mini",result="failure"} 1"#))
        #expect(lines.contains(#"embedd_model_reloads_total{model="mini",result="success"} 0"#))
        // Every family once, HELP before TYPE before samples.
        let types = lines.filter { $0.hasPrefix("# TYPE ") }
        #expect(Set(types).count == types.count)
        #expect(lines.first?.hasPrefix("# HELP embedd_calls_total ") == true)
    }

    @Test func processFiguresComeFromProc() throws {
        let p = try #require(ProcessStats.current())
        #expect(p.residentBytes > 1 << 20)
        #expect(p.openDescriptors >= 3)
        #expect(p.cpuSeconds >= 0)
        let now = Double(Clock.realtimeMicroseconds()) / 1e6
        #expect(p.startTimeSeconds <= now + 1 && p.startTimeSeconds > now - 86_400)
    }

    @Test func procStatFieldsSurviveAParenthesisInTheCommandName() {
        let line = Array("1234 (a) b (c)) S 1 2 3 4 5 6 7 8 9 10 11 12\n".utf8)
        let f = ProcessStats.afterCommand(line)
        #expect(f?.first == "S")
        #expect(f?.count == 13)
    }
}
